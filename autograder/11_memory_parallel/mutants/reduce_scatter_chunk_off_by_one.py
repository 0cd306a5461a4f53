# mutant: ring reduce-scatter sends chunk (r - t - 1) instead of (r - t): all-gather then spreads partial sums
# replaces: ring_impl
# breaks: ring_allreduce
# replace:
            c = (r - t) % n
# with:
            c = (r - t - 1) % n
