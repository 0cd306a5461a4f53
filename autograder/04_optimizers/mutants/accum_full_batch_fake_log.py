# mutant: red team: one full-batch backward through model.forward (skips the model's own hooks), then micro-batch calls under no_grad so a size log looks right
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
    loss = loss_fn(model.forward(X), y)                           # BUG: one full-batch backward
    loss.backward()
    with torch.no_grad():                                         # only to fill a size log
        for i in range(0, n, micro_batch_size):
            model(X[i:i + micro_batch_size])
    return loss.item()
