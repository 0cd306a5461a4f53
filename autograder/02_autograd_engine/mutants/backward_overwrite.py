# mutant: overwrite gradients instead of accumulating them
# replaces: backward_impl
# breaks: backward
# replace:
    if self.grad is None:
        self.grad = g
    else:
        self.grad = self.grad + g
# with:
    self.grad = g                      # BUG: the last contribution wins
