# mutant: velocity_fn gets the time as a Python float instead of a (B,) tensor
# replaces: euler_impl
# breaks: euler_sampler
# replace:
        x = x + dt * velocity_fn(x, t)
# with:
        x = x + dt * velocity_fn(x, k * dt)
