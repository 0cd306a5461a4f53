# mutant: relu masks with the sign of the upstream gradient instead of the input
# replaces: relu_impl
# breaks: ops_relu
# replace:
        x._accumulate_grad(out.grad * (x.data > 0))
# with:
        x._accumulate_grad(out.grad * (out.grad > 0))
