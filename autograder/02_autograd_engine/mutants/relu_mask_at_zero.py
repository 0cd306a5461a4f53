# mutant: relu lets the gradient through at x = 0 (mask x >= 0)
# replaces: relu_impl
# breaks: ops_relu
# replace:
        x._accumulate_grad(out.grad * (x.data > 0))
# with:
        x._accumulate_grad(out.grad * (x.data >= 0))
