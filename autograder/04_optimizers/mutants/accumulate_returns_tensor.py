# mutant: accumulate_gradients sums the detached loss tensors and returns a tensor, not a Python float
# replaces: accum_impl
# breaks: grad_accumulation
# replace:
        total += loss.item()
# with:
        total = total + loss.detach()
