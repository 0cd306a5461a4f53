# mutant: linear schedule beta_start + i (beta_end - beta_start) / T: beta_end itself is never reached
# replaces: schedules_impl
# breaks: forward_process
# loses: 0.15 the linear schedule is the smallest of the part's three functions (1 of 6 weight); cosine and q_sample are right
# replace:
    return torch.linspace(beta_start, beta_end, T, dtype=torch.float64)
# with:
    return beta_start + torch.arange(T, dtype=torch.float64) * (beta_end - beta_start) / T   # BUG: end excluded
