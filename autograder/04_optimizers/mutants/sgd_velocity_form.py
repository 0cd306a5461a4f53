# mutant: textbook velocity form v = mu * v - lr * g, p += v (equal to PyTorch only while lr is constant)
# replaces: sgd_impl
# breaks: sgd_momentum
# replace:
    if momentum != 0:
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = d_p.clone()
        else:
            buf.mul_(momentum).add_(d_p)
        state["momentum_buffer"] = buf
        d_p = buf
    p.add_(d_p, alpha=-lr)
# with:
    v = state.get("velocity")
    v = -lr * d_p if v is None else momentum * v - lr * d_p      # BUG: old lrs stay inside v
    state["velocity"] = v
    p.add_(v)
