# mutant: db sums G over the first axis only (right for 2-D x, wrong shape for (B, T, d) inputs)
# replaces: linear_impl
# breaks: linear
# replace:
        self.grads["b"] = g2.sum(axis=0)
# with:
        self.grads["b"] = np.asarray(grad_out, dtype=np.float64).sum(axis=0)   # BUG: only the first axis
