# mutant: each micro-batch loss divided by the number of micro-batches (right only for equal sizes)
# replaces: accum_impl
# breaks: grad_accumulation
# replace:
    n = len(X)
# with:
    n = len(X)
    k = (n + micro_batch_size - 1) // micro_batch_size

# replace:
        weight = len(xb) / n
        loss = loss_fn(model(xb), yb) * weight
# with:
        loss = loss_fn(model(xb), yb) / k                         # BUG: 1/K instead of n_k/N
