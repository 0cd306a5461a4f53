# alternative: ring all-reduce on float64 working copies (messages cast back to the input dtype), chunks as np.array_split index lists, empty chunks (K < N) never sent, each rank's step written as a helper
# replaces: ring_impl
def ring_all_reduce(buffers, ring):
    n = len(buffers)
    dtype = np.asarray(buffers[0]).dtype
    work = [np.asarray(b, dtype=np.float64).copy() for b in buffers]
    pieces = np.array_split(np.arange(len(work[0])), n)

    def step(chunk_of, combine):
        outgoing = []
        for rank in range(n):
            idx = pieces[chunk_of(rank)]
            if idx.size:
                outgoing.append((rank, idx, ring.send(rank, (rank + 1) % n, work[rank][idx].astype(dtype))))
        for rank, idx, data in outgoing:
            combine(work[(rank + 1) % n], idx, data)

    def add(buf, idx, data):
        buf[idx] += data                    # float64 sum of two input-dtype numbers, rounded when sent

    def put(buf, idx, data):
        buf[idx] = data

    for t in range(n - 1):
        step(lambda rank: (rank - t) % n, add)
    for t in range(n - 1):
        step(lambda rank: (rank + 1 - t) % n, put)
    return [w.astype(dtype) for w in work]
