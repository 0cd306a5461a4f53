# alternative: per-channel qparams by moving the channel first and flattening the rest; dtype-preserving where
# replaces: qparams_impl
# replace:
    if dim is None:
        dims, keep = tuple(range(x.dim())), False
    else:
        channel = dim % x.dim()
        dims, keep = tuple(d for d in range(x.dim()) if d != channel), True
    if mode == "symmetric":
        amax = x.abs().amax(dim=dims, keepdim=keep)
        scale = amax.clamp_min(EPS) / 127
        zero_point = torch.zeros(scale.shape, dtype=torch.int32)
    else:
        x_min = x.amin(dim=dims, keepdim=keep).clamp_max(0)
        x_max = x.amax(dim=dims, keepdim=keep).clamp_min(0)
        scale = (x_max - x_min).clamp_min(EPS) / 255
        zero_point = torch.round(-x_min / scale).clamp(0, 255).to(torch.int32)
    return scale, zero_point
# with:
    if dim is None:
        flat, shape = x.reshape(1, -1), ()
    else:
        channel = dim % x.dim()
        flat = x.movedim(channel, 0).reshape(x.shape[channel], -1)
        shape = [1] * x.dim()
        shape[channel] = x.shape[channel]
    if mode == "symmetric":
        scale = torch.clamp(flat.abs().max(dim=1).values, min=EPS) / 127
        zero_point = torch.zeros_like(scale, dtype=torch.int32)
    else:
        zero = torch.zeros((), dtype=x.dtype)
        lo = torch.minimum(flat.min(dim=1).values, zero)
        hi = torch.maximum(flat.max(dim=1).values, zero)
        scale = torch.clamp(hi - lo, min=EPS) / 255
        zero_point = torch.clamp(torch.round(-lo / scale), 0, 255).to(torch.int32)
    return scale.reshape(shape), zero_point.reshape(shape)
