# mutant: sum's forward drops the reduced axes even when keepdims=True
# replaces: sum_mean_impl
# breaks: ops_sum_mean
# replace:
    out = make_result(x.data.sum(axis=axes, keepdims=keepdims), (x,), "sum")
# with:
    out = make_result(x.data.sum(axis=axes), (x,), "sum")
