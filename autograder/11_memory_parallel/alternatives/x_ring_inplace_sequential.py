# alternative: ring all-reduce that applies each arrival at once (send returns a copy), chunks as views of float copies
# replaces: ring_impl
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
    bufs = [b.copy() for b in buffers]
    chunks = [[buf[lo:hi] for lo, hi in chunk_bounds(len(buf), n)] for buf in bufs]   # views into bufs
    for t in range(n - 1):
        for r in range(n):
            c = (r - t) % n
            chunks[(r + 1) % n][c] += ring.send(r, (r + 1) % n, chunks[r][c])
    for t in range(n - 1):
        for r in range(n):
            c = (r + 1 - t) % n
            chunks[(r + 1) % n][c][...] = ring.send(r, (r + 1) % n, chunks[r][c])
    return bufs
