# mutant: does not reset intermediate gradients, so a second backward() reuses stale ones
# replaces: backward_impl
# breaks: backward
def _accumulate_grad(self, g):
    """Add the gradient g (same shape as self.data) into self.grad.

    - A Tensor with requires_grad=False ignores g.
    - The first contribution is stored as a float64 COPY of g (so later additions never
      modify the caller's array); every further contribution is added to it.
      A Tensor used by several operations thus receives the sum of all their shares.
    """
    if not self.requires_grad:
        return
    g = np.array(g, dtype=np.float64)
    if g.shape != self.data.shape:
        raise ValueError(f"gradient of shape {g.shape} for a Tensor of shape {self.data.shape}")
    if self.grad is None:
        self.grad = g
    else:
        self.grad = self.grad + g


def backward(self, grad=None):
    """Backpropagate from this Tensor through every Tensor it was computed from.

    grad: dL/d(self) with the shape of self.data; None means np.ones_like(self.data).

    1. collect every Tensor reachable through _prev in topological order
       (DFS post-order: a node is appended after all of its parents),
    2. set .grad = None on every non-leaf node of that graph (nodes with _prev), so a second
       backward() does not add stale intermediate gradients; leaf gradients keep accumulating,
    3. accumulate `grad` into self.grad,
    4. visit the nodes in REVERSE topological order and call node._backward() on every node
       whose .grad is not None (a node that no gradient reached has nothing to pass on).
    """
    topo, visited = [], set()

    def build(node):
        if id(node) in visited:
            return
        visited.add(id(node))
        for parent in node._prev:
            build(parent)
        topo.append(node)

    build(self)
    if grad is None:
        grad = np.ones_like(self.data)
    self._accumulate_grad(grad)
    for node in reversed(topo):
        if node.grad is not None:
            node._backward()


Tensor._accumulate_grad = _accumulate_grad
Tensor.backward = backward
