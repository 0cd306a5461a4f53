# mutant: asymmetric zero-point with the sign flipped: round(x_min / s)
# replaces: qparams_impl
# breaks: quantize
def compute_qparams(x, mode, dim=None):
    """Scale and zero-point of int8 quantization ("symmetric") or uint8 quantization ("asymmetric").

    dim=None: one (scale, zero_point) for the whole tensor, both 0-d.
    dim=int : one pair per slice along `dim` (the channel axis), reduced over ALL OTHER axes and
              kept broadcastable: same ndim as x, size 1 everywhere except along dim.
    symmetric : scale = max(max|x|, EPS) / 127, zero_point = 0
    asymmetric: x_min = min(min x, 0), x_max = max(max x, 0), scale = max(x_max - x_min, EPS) / 255,
                zero_point = round(-x_min / scale) clamped to [0, 255]
    Returns (scale in x's dtype, zero_point as torch.int32).
    """
    if mode not in ("symmetric", "asymmetric"):
        raise ValueError(f"mode must be 'symmetric' or 'asymmetric', got {mode!r}")
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
        zero_point = torch.round(x_min / scale).to(torch.int32)   # BUG: sign flipped
    return scale, zero_point
