# mutant: matmul's backward uses ones instead of the upstream gradient
# replaces: matmul_impl
# breaks: ops_matmul
# replace:
        a._accumulate_grad(out.grad @ b.data.T)
        b._accumulate_grad(a.data.T @ out.grad)
# with:
        a._accumulate_grad(np.ones_like(out.grad) @ b.data.T)
        b._accumulate_grad(a.data.T @ np.ones_like(out.grad))
