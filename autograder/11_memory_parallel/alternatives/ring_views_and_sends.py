# alternative: ring all-reduce on np.array_split views of copies, each phase as one loop over (step, rank) with the messages collected first
# replaces: ring_impl
def ring_all_reduce(buffers, ring):
    n = len(buffers)
    work = [np.copy(np.asarray(b)) for b in buffers]
    chunks = [np.array_split(w, n) for w in work]          # views into each rank's copy
    for phase in ("reduce-scatter", "all-gather"):
        for step in range(n - 1):
            messages = []
            for rank in range(n):
                c = (rank - step) % n if phase == "reduce-scatter" else (rank + 1 - step) % n
                messages.append((c, ring.send(rank, (rank + 1) % n, chunks[rank][c])))
            for rank, (c, data) in enumerate(messages):
                target = chunks[(rank + 1) % n][c]
                if phase == "reduce-scatter":
                    np.add(target, data, out=target)
                else:
                    target[...] = data
    return work
