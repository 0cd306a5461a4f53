# mutant: mul scales the shared upstream gradient out.grad in place before handing it on
# replaces: add_mul_impl
# breaks: ops_add_mul
# replace:
        a._accumulate_grad(unbroadcast(out.grad * b.data, a.shape))
# with:
        g = out.grad
        g *= b.data                                  # BUG: changes out.grad itself
        a._accumulate_grad(unbroadcast(g, a.shape))
