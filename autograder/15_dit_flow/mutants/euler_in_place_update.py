# mutant: the Euler update is written x += dt * v: the first step overwrites the caller's x0 and every path entry is the same tensor
# replaces: euler_impl
# breaks: euler_sampler
# replace:
        x = x + dt * velocity_fn(x, t)
# with:
        x += dt * velocity_fn(x, t)
