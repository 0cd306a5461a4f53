# mutant: broadcasts dL/dout back without re-inserting the reduced axes (keepdims=False)
# replaces: sum_mean_impl
# breaks: ops_sum_mean
# replace:
        g = out.grad if keepdims else np.expand_dims(out.grad, axes)
        x._accumulate_grad(np.broadcast_to(g, x.shape))
# with:
        g = out.grad                   # BUG: reduced axes not restored
        x._accumulate_grad(np.broadcast_to(g, x.shape))

# replace:
        g = out.grad if keepdims else np.expand_dims(out.grad, axes)
        x._accumulate_grad(np.broadcast_to(g, x.shape) / n)
# with:
        g = out.grad                   # BUG: reduced axes not restored
        x._accumulate_grad(np.broadcast_to(g, x.shape) / n)
