# mutant: Euler step against the velocity: x - dt * v
# replaces: euler_impl
# breaks: euler_sampler
# replace:
        x = x + dt * velocity_fn(x, t)
# with:
        x = x - dt * velocity_fn(x, t)
