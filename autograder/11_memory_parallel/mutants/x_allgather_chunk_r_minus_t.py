# mutant: all-gather sends chunk (r - t) % N, the reduce-scatter schedule, instead of (r + 1 - t) % N
# replaces: ring_impl
# breaks: ring_allreduce
# replace:
            c = (r + 1 - t) % n
# with:
            c = (r - t) % n                                          # BUG: copies partial sums around
