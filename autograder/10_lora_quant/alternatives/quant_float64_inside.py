# alternative: qparams through torch.aminmax and float64 arithmetic, cast back to x's dtype; quantize with clamp bounds as tensors
# replaces: qparams_impl
def compute_qparams(x, mode, dim=None):
    if mode not in ("symmetric", "asymmetric"):
        raise ValueError(f"mode must be 'symmetric' or 'asymmetric', got {mode!r}")
    if dim is None:
        flat = x.reshape(-1).double()
        lo, hi = torch.aminmax(flat)
    else:
        channel = dim % x.dim()
        moved = x.movedim(channel, 0).reshape(x.shape[channel], -1).double()
        lo, hi = torch.aminmax(moved, dim=1)
        shape = [1] * x.dim()
        shape[channel] = x.shape[channel]
        lo, hi = lo.reshape(shape), hi.reshape(shape)
    if mode == "symmetric":
        scale = (torch.maximum(hi.abs(), lo.abs()).clamp_min(EPS) / 127).to(x.dtype)
        return scale, torch.zeros_like(scale, dtype=torch.int32)
    lo, hi = lo.clamp(max=0.0), hi.clamp(min=0.0)
    scale = ((hi - lo).clamp_min(EPS) / 255).to(x.dtype)
    zero_point = torch.round(-lo.to(x.dtype) / scale).clamp(0, 255).to(torch.int32)
    return scale, zero_point
