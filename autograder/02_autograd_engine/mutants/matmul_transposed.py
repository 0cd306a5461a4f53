# mutant: dL/dB computed as G^T @ A, the transpose of A^T @ G
# replaces: matmul_impl
# breaks: ops_matmul
# replace:
        b._accumulate_grad(a.data.T @ out.grad)
# with:
        b._accumulate_grad(out.grad.T @ a.data)
