# mutant: Linear.backward adds into grads from earlier calls instead of overwriting them with this call's
# replaces: linear_impl
# breaks: linear
# replace:
        self.grads["W"] = x2.T @ g2
        self.grads["b"] = g2.sum(axis=0)
# with:
        self.grads["W"] = self.grads.get("W", 0.0) + x2.T @ g2
        self.grads["b"] = self.grads.get("b", 0.0) + g2.sum(axis=0)
