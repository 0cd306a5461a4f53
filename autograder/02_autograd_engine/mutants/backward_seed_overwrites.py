# mutant: the seed gradient is assigned to self.grad, not accumulated (a leaf root loses what it had)
# replaces: backward_impl
# breaks: backward
# replace:
    self._accumulate_grad(grad)
# with:
    self.grad = np.array(grad, dtype=np.float64)
