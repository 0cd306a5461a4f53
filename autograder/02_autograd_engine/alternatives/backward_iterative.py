# alternative: iterative DFS with an explicit stack, np.add for the accumulation
# replaces: backward_impl
def _accumulate_grad(self, g):
    """Add the gradient g (same shape as self.data) into self.grad."""
    if not self.requires_grad:
        return
    g = np.asarray(g).astype(np.float64, copy=True)
    self.grad = g if self.grad is None else np.add(self.grad, g)


def backward(self, grad=None):
    """Backpropagate from this Tensor through every Tensor it was computed from."""
    order, seen, stack = [], set(), [(self, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for parent in node._prev:
            if id(parent) not in seen:
                stack.append((parent, False))
    for node in order:
        if node._prev:
            node.grad = None
    self._accumulate_grad(np.ones(self.data.shape) if grad is None else grad)
    for node in order[::-1]:
        if node.grad is not None:
            node._backward()


Tensor._accumulate_grad = _accumulate_grad
Tensor.backward = backward
