# mutant: all-reduce that forwards whole vectors around the ring: right sum, (N-1)K traffic per rank
# replaces: ring_impl
# breaks: ring_allreduce
# replace:
    bounds = chunk_bounds(len(bufs[0]), n)

    for t in range(n - 1):                           # reduce-scatter
        arrived = []
# with:
    travelling = [np.array(b, copy=True) for b in buffers]
    for t in range(n - 1):
        arrived = [ring.send(r, (r + 1) % n, travelling[r]) for r in range(n)]

# replace:
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
# with:
            data = arrived[(r - 1) % n]
            bufs[r] += data
            travelling[r] = data
