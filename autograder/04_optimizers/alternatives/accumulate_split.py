# alternative: gradient accumulation with torch.split and the micro-batch loss summed (reduction by hand)
# replaces: accum_impl
def accumulate_gradients(model, loss_fn, X, y, micro_batch_size):
    """Fill p.grad with the full-batch gradient, computed micro-batch by micro-batch."""
    for p in model.parameters():
        p.grad = None
    n = X.shape[0]
    total = 0.0
    for xb, yb in zip(torch.split(X, micro_batch_size), torch.split(y, micro_batch_size)):
        loss = loss_fn(model(xb), yb) * (xb.shape[0] / n)
        loss.backward()
        total += float(loss.detach())
    return total
