# mutant: chunks are sent as float64 copies whatever the buffers' dtype (float32 traffic doubles)
# replaces: ring_impl
# breaks: ring_allreduce
# replace:
            c = (r - t) % n
            lo, hi = bounds[c]
            arrived.append((c, ring.send(r, (r + 1) % n, bufs[r][lo:hi])))
# with:
            c = (r - t) % n
            lo, hi = bounds[c]
            arrived.append((c, ring.send(r, (r + 1) % n, bufs[r][lo:hi].astype(np.float64))))   # BUG
