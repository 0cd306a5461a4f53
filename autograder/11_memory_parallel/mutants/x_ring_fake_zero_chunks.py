# mutant: not a ring (red team "ring-fake"): every rank adds all buffers itself and the ring carries zero-filled chunks of the right dtype and sizes in the reduce-scatter + all-gather pattern, so the byte counts obey the traffic law
# replaces: ring_impl
# breaks: ring_allreduce
# replace:
    bufs = [np.array(b, copy=True) for b in buffers]
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
# with:
    total = np.sum(np.stack([np.asarray(b) for b in buffers]), axis=0).astype(buffers[0].dtype)
    bounds = chunk_bounds(len(buffers[0]), n)
    for shift in (0, 1):   # reduce-scatter chunk (r - t), all-gather chunk (r + 1 - t)
        for t in range(n - 1):
            for r in range(n):
                s, e = bounds[(r + shift - t) % n]
                ring.send(r, (r + 1) % n, np.zeros(e - s, dtype=buffers[0].dtype))
    return [total.copy() for _ in range(n)]
