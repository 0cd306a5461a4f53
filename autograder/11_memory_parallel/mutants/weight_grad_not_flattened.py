# mutant: weight gradients as x.T @ dY without flattening the leading axes (right for 2-D inputs only)
# replaces: tp_impl
# breaks: tensor_parallel
# replace:
        dW_shards.append(x2.T @ dY2)
# with:
        dW_shards.append(x.T @ dY)
