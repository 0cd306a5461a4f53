# mutant: bound = scale (a whole step) instead of scale / 2
# replaces: error_impl
# breaks: error_bound
def roundtrip_error(x, mode, dim=None):
    """Quantize x with its own qparams (compute_qparams(x, mode, dim)), dequantize, and return
    (max_error, bound): max |x - x_hat| over the whole tensor (dim=None, 0-d) or per channel along
    `dim` (shaped like scale), and the rounding bound scale / 2 (shaped like scale)."""
    scale, zero_point = compute_qparams(x, mode, dim)
    x_hat = dequantize(quantize(x, scale, zero_point, mode), scale, zero_point)
    err = (x - x_hat).abs()
    if dim is None:
        max_error = err.amax()
    else:
        channel = dim % x.dim()
        max_error = err.amax(dim=tuple(d for d in range(x.dim()) if d != channel), keepdim=True)
    return max_error, scale                     # BUG: the bound is half a step
