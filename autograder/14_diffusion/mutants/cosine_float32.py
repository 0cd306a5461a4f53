# mutant: the cosine schedule computed in float32 (torch.arange without dtype): betas near t = T are off by ~1e-4 and the dtype is float32
# replaces: schedules_impl
# breaks: forward_process
# loses: 0.3 the cosine schedule is one of three functions of part forward_process (weighted 2 of 6)
# replace:
    tau = torch.arange(T + 1, dtype=torch.float64) / T                  # 0, 1/T, ..., 1
# with:
    tau = torch.arange(T + 1) / T
