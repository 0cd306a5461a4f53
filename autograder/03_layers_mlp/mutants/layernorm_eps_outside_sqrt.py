# mutant: eps added outside the square root: (x - mu) / (sqrt(var) + eps)
# replaces: layernorm_impl
# breaks: layernorm
# replace:
        self.inv_std = 1.0 / np.sqrt(var + self.eps)
# with:
        self.inv_std = 1.0 / (np.sqrt(var) + self.eps)      # BUG: eps outside the sqrt
