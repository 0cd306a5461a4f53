# mutant: _accumulate_grad copies g but keeps its dtype, so a float32 gradient is stored as float32
# replaces: backward_impl
# breaks: backward
# replace:
    g = np.array(g, dtype=np.float64)
# with:
    g = np.array(g)
