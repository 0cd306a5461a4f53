# mutant: dropout draws from a fresh unseeded generator instead of the layer's rng (not reproducible)
# replaces: dropout_impl
# breaks: dropout
# replace:
        keep = self.rng.random(x.shape) >= self.p
# with:
        keep = np.random.default_rng().random(x.shape) >= self.p
