# mutant: each micro-batch loss divided by the number of micro-batches (right only for equal sizes)
# replaces: accum_impl
# breaks: grad_accumulation
def accumulate_gradients(model, loss_fn, X, y, micro_batch_size):
    """Fill p.grad with the gradient of the full-batch loss, micro-batch by micro-batch."""
    model.zero_grad(set_to_none=True)
    n = len(X)
    k = (n + micro_batch_size - 1) // micro_batch_size
    total = 0.0
    for i in range(0, n, micro_batch_size):
        xb, yb = X[i:i + micro_batch_size], y[i:i + micro_batch_size]
        loss = loss_fn(model(xb), yb) / k                         # BUG: 1/K instead of n_k/N
        loss.backward()
        total += loss.item()
    return total
