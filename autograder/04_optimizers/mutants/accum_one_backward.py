# mutant: every micro-batch's graph kept alive, ONE backward() over the n_k / N-weighted sum at the end (right gradients, a full batch's activation memory): only the order of the stand-in layer's forwards and backwards catches it (red team, accum-one-graph)
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
    losses = [loss_fn(model(X[i:i + micro_batch_size]), y[i:i + micro_batch_size]) * (len(X[i:i + micro_batch_size]) / n)
              for i in range(0, n, micro_batch_size)]
    total = sum(losses)                                           # BUG: all graphs alive at once
    total.backward()
    return float(total)
