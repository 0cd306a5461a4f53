# alternative: rf_interpolate with torch.lerp and a view of t
# replaces: flow_impl
# replace:
    t = t.reshape(-1, *[1] * (x0.dim() - 1))
    return (1 - t) * x0 + t * x1
# with:
    return torch.lerp(x0, x1, t.view(t.shape[0], *([1] * (x0.dim() - 1))).to(x0.dtype))
