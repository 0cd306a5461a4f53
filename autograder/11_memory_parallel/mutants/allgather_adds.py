# mutant: the all-gather phase adds the arriving chunk instead of overwriting it
# replaces: ring_impl
# breaks: ring_allreduce
# replace:
            bufs[(r + 1) % n][lo:hi] = data
# with:
            bufs[(r + 1) % n][lo:hi] += data                             # BUG: counts the sum twice
