# mutant: add and mul pass the broadcast-shaped gradient to their inputs unreduced
# replaces: add_mul_impl
# breaks: ops_add_mul
# replace:
        a._accumulate_grad(unbroadcast(out.grad, a.shape))
        b._accumulate_grad(unbroadcast(out.grad, b.shape))
# with:
        a._accumulate_grad(out.grad)
        b._accumulate_grad(out.grad)

# replace:
        a._accumulate_grad(unbroadcast(out.grad * b.data, a.shape))
        b._accumulate_grad(unbroadcast(out.grad * a.data, b.shape))
# with:
        a._accumulate_grad(out.grad * b.data)
        b._accumulate_grad(out.grad * a.data)
