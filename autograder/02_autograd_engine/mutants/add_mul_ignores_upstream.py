# mutant: mul's backward ignores the upstream gradient (only caught with a random dL/dout)
# replaces: add_mul_impl
# breaks: ops_add_mul
# replace:
        a._accumulate_grad(unbroadcast(out.grad * b.data, a.shape))
        b._accumulate_grad(unbroadcast(out.grad * a.data, b.shape))
# with:
        a._accumulate_grad(unbroadcast(np.broadcast_to(b.data, out.shape), a.shape))
        b._accumulate_grad(unbroadcast(np.broadcast_to(a.data, out.shape), b.shape))
