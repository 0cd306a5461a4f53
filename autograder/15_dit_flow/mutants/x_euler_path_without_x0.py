# mutant: return_path leaves out the starting point: num_steps entries instead of num_steps + 1
# replaces: euler_impl
# breaks: euler_sampler
# loses: 0.25 only the optional return_path output is wrong; the sample at t = 1 and the times passed are right
# replace:
    path = [x]
# with:
    path = []                                                        # BUG: x0 missing from the path
