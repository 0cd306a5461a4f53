# mutant: one full-batch backward, then the grader's ordered forward/backward log (public in probes.py) overwritten with the contract's: only the gradients can catch it
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
    loss = loss_fn(model(X), y)                                   # BUG: one full-batch backward
    loss.backward()
    sizes = [len(X[i:i + micro_batch_size]) for i in range(0, n, micro_batch_size)]
    for layer in model.modules():                                 # forge the probe's ordered log
        log = getattr(layer, "log", None)
        if type(log).__name__ == "list":
            log[:] = [(kind, k) for k in sizes for kind in ("forward", "backward")]
    return loss.item()
