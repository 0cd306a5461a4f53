# mutant: Euler step k evaluates the velocity at t = (k + 1) / num_steps (the end of the step)
# replaces: euler_impl
# breaks: euler_sampler
# replace:
        t = torch.full((x.shape[0],), k * dt, dtype=x.dtype)
# with:
        t = torch.full((x.shape[0],), (k + 1) * dt, dtype=x.dtype)   # BUG: off by one step
