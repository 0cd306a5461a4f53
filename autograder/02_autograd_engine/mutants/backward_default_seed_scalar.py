# mutant: backward() without a gradient seeds the number 1.0, right only for a scalar root
# replaces: backward_impl
# breaks: backward
# replace:
        grad = np.ones_like(self.data)
# with:
        grad = np.array(1.0)
