# mutant: cosine schedule without clipping at max_beta: the last beta is 1 and alpha_bar[T-1] = 0
# replaces: schedules_impl
# breaks: forward_process
# loses: 0.3 the cosine schedule is one of three functions of part forward_process (weighted 2 of 6)
# replace:
    betas = 1.0 - alpha_bar[1:] / alpha_bar[:-1]
    return torch.clamp(betas, max=max_beta)
# with:
    return 1.0 - alpha_bar[1:] / alpha_bar[:-1]                         # BUG: no clamp(max=max_beta)
