# alternative: the global norm in the gradients' own dtype (as torch.nn.utils.clip_grad_norm_)
# replaces: clip_impl
def clip_grad_norm(grads, max_norm):
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    total_norm = total.item()
    coef = max_norm / (total_norm + 1e-12)
    if coef >= 1.0:
        return [g.clone() for g in grads], total_norm
    return [g * coef for g in grads], total_norm
