# mutant: mean's backward forgets to divide by N
# replaces: sum_mean_impl
# breaks: ops_sum_mean
# replace:
        x._accumulate_grad(np.broadcast_to(g, x.shape) / n)
# with:
        x._accumulate_grad(np.broadcast_to(g, x.shape))
