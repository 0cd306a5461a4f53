# mutant: does not reset intermediate gradients, so a second backward() reuses stale ones
# replaces: backward_impl
# breaks: backward
# replace:
    for node in topo:
        if node._prev:
            node.grad = None
# with:
