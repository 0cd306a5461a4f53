# alternative: roundtrip_error per channel with movedim + flatten (amax over one axis), bound from the returned scale
# replaces: error_impl
def roundtrip_error(x, mode, dim=None):
    scale, zero_point = compute_qparams(x, mode, dim)
    q = quantize(x, scale, zero_point, mode)
    err = torch.abs(dequantize(q, scale, zero_point) - x)
    if dim is None:
        return err.max(), scale / 2
    channel = dim % x.dim()
    per_channel = err.movedim(channel, 0).flatten(1).max(dim=1).values
    return per_channel.reshape(scale.shape), 0.5 * scale
