# mutant: cosine schedule without the offset s (f(tau) = cos^2(tau * pi / 2)): the first betas are ~17x too small
# replaces: schedules_impl
# breaks: forward_process
# loses: 0.3 the cosine schedule is one of three functions of part forward_process (weighted 2 of 6)
# replace:
    """The cosine schedule of Nichol & Dhariwal (2021), float64 tensor of shape (T,).

    alpha_bar(tau) = f(tau) / f(0) with f(tau) = cos^2((tau + s) / (1 + s) * pi / 2), tau = t / T;
    betas[i] = min(1 - alpha_bar((i + 1) / T) / alpha_bar(i / T), max_beta) for i = 0, ..., T-1.
    """
    ### BEGIN SOLUTION
    tau = torch.arange(T + 1, dtype=torch.float64) / T                  # 0, 1/T, ..., 1
    f = torch.cos((tau + s) / (1 + s) * (math.pi / 2)) ** 2
# with:
    tau = torch.arange(T + 1, dtype=torch.float64) / T
    f = torch.cos(tau * (math.pi / 2)) ** 2                              # BUG: (tau + s) / (1 + s) missing
