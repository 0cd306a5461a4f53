# mutant: relu clips its input in place (np.maximum(..., out=x.data)): values and gradients right, x changed
# replaces: relu_impl
# breaks: ops_relu
# replace:
    out = make_result(np.maximum(x.data, 0.0), (x,), "relu")
# with:
    out = make_result(np.maximum(x.data, 0.0, out=x.data), (x,), "relu")
