# mutant: one full-batch backward through a hand-run forward (each layer's .forward, the grader's stand-in layer copied by hand, so no call is logged), then micro-batch calls under no_grad to fill the forward log
# replaces: accum_impl
# breaks: grad_accumulation
# replace:
    for i in range(0, n, micro_batch_size):
        xb, yb = X[i:i + micro_batch_size], y[i:i + micro_batch_size]
        weight = len(xb) / n
        loss = loss_fn(model(xb), yb) * weight
        loss.backward()
        total += loss.item()
    return total
# with:
    h = X
    for layer in model:                                           # BUG: the full batch at once
        h = h - 0.5 * h.mean(0, keepdim=True) if type(layer).__name__ == "_HalfCenterLayer" else layer.forward(h)
    loss = loss_fn(h, y)
    loss.backward()
    with torch.no_grad():                                         # only to fill the size log
        for i in range(0, n, micro_batch_size):
            model(X[i:i + micro_batch_size])
    return loss.item()
