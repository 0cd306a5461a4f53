# mutant: one dropout mask row drawn for the last axis and shared by every row
# replaces: dropout_impl
# breaks: dropout
# replace:
        keep = self.rng.random(x.shape) >= self.p
# with:
        keep = self.rng.random(x.shape[-1:]) >= self.p
