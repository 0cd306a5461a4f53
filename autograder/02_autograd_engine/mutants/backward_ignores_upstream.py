# mutant: backward(grad) ignores the given upstream gradient and seeds with ones
# replaces: backward_impl
# breaks: backward
# replace:
    if grad is None:
        grad = np.ones_like(self.data)
# with:
    grad = np.ones_like(self.data)     # BUG: the argument is ignored
