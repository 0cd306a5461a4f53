# mutant: linear_torch computes in float64 "for accuracy" and returns float64 instead of the inputs' float32
# replaces: matmul_torch_impl
# breaks: matmul
# replace:
    return x @ W.T + b
# with:
    return x.double() @ W.double().T + b.double()
