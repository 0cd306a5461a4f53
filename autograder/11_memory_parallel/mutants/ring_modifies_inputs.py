# mutant: ring all-reduce works in place on the caller's buffers (no copy)
# replaces: ring_impl
# breaks: ring_allreduce
# replace:
    bufs = [np.array(b, copy=True) for b in buffers]
# with:
    bufs = list(buffers)
