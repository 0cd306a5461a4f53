# alternative: clip_grad_norm with torch.linalg norms stacked, the factor clamped with torch.clamp
# replaces: clip_impl
def clip_grad_norm(grads, max_norm):
    """Clip a list of gradient tensors by their global norm."""
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.double()) for g in grads]))
    factor = torch.clamp(max_norm / (total + 1e-12), max=1.0)
    return [g * factor.to(g.dtype) for g in grads], total.item()
