# mutant: all-reduce that forwards whole vectors around the ring: right sum, (N-1)K traffic per rank
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
    bufs = [np.array(b, copy=True) for b in buffers]
    travelling = [np.array(b, copy=True) for b in buffers]
    for t in range(n - 1):
        arrived = [ring.send(r, (r + 1) % n, travelling[r]) for r in range(n)]
        for r in range(n):
            data = arrived[(r - 1) % n]
            bufs[r] += data
            travelling[r] = data
    return bufs
