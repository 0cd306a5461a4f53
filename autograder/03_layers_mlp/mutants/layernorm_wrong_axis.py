# mutant: normalizes over the batch axis (axis 0, like BatchNorm) instead of the last axis
# replaces: layernorm_impl
# breaks: layernorm
# replace:
        mu = x.mean(axis=-1, keepdims=True)
# with:
        mu = x.mean(axis=0, keepdims=True)                  # BUG: statistics over axis 0

# replace:
        var = (xc * xc).mean(axis=-1, keepdims=True)
# with:
        var = (xc * xc).mean(axis=0, keepdims=True)

# replace:
        return self.inv_std * (g - g.mean(axis=-1, keepdims=True)
                               - self.xhat * (g * self.xhat).mean(axis=-1, keepdims=True))
# with:
        return self.inv_std * (g - g.mean(axis=0, keepdims=True)
                               - self.xhat * (g * self.xhat).mean(axis=0, keepdims=True))
