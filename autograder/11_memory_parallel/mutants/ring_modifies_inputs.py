# mutant: ring all-reduce works in place on the caller's buffers (no copy)
# replaces: ring_impl
# breaks: ring_allreduce
def ring_all_reduce(buffers, ring):
    """Ring all-reduce of N equal-length 1-D arrays over `ring` (a SimulatedRing with N ranks).

    Reduce-scatter: in step t = 0..N-2 rank r sends chunk (r - t) % N to rank r+1, which adds it in.
    All-gather:     in step t = 0..N-2 rank r sends chunk (r + 1 - t) % N to rank r+1, which overwrites.
    Returns a list: element r is rank r's final array (the elementwise sum, dtype of the inputs).
    The input arrays are not modified.
    """
    n = len(buffers)
    bufs = list(buffers)
    bounds = chunk_bounds(len(bufs[0]), n)

    for t in range(n - 1):                           # reduce-scatter
        arrived = []
        for r in range(n):
            c = (r - t) % n
            lo, hi = bounds[c]
            arrived.append((c, ring.send(r, (r + 1) % n, bufs[r][lo:hi])))
        for r, (c, data) in enumerate(arrived):
            lo, hi = bounds[c]
            bufs[(r + 1) % n][lo:hi] += data

    for t in range(n - 1):                           # all-gather: rank r owns the full sum of chunk r + 1
        arrived = []
        for r in range(n):
            c = (r + 1 - t) % n
            lo, hi = bounds[c]
            arrived.append((c, ring.send(r, (r + 1) % n, bufs[r][lo:hi])))
        for r, (c, data) in enumerate(arrived):
            lo, hi = bounds[c]
            bufs[(r + 1) % n][lo:hi] = data
    return bufs
