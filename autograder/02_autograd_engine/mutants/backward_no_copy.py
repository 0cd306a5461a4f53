# mutant: stores the first gradient without copying and adds in place (aliases the caller's array)
# replaces: backward_impl
# breaks: backward
# replace:
    g = np.array(g, dtype=np.float64)
# with:
    g = np.asarray(g, dtype=np.float64)  # BUG: no copy

# replace:
        self.grad = self.grad + g
# with:
        self.grad += g                     # BUG: in place on a shared array
