# mutant: dropout without the 1/(1-p) scaling of the kept elements
# replaces: dropout_impl
# breaks: dropout
# replace:
        self.scale = keep / (1.0 - self.p)
# with:
        self.scale = keep.astype(np.float64)                # BUG: no 1/(1-p)
