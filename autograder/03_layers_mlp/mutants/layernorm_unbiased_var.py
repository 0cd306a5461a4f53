# mutant: LayerNorm divides the variance by D - 1 (unbiased) instead of D
# replaces: layernorm_impl
# breaks: layernorm
# replace:
        var = (xc * xc).mean(axis=-1, keepdims=True)
# with:
        var = (xc * xc).sum(axis=-1, keepdims=True) / (x.shape[-1] - 1)
