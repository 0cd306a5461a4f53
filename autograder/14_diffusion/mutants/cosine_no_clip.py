# mutant: cosine schedule without clipping at max_beta: the last beta is 1 and alpha_bar[T-1] = 0
# replaces: schedules_impl
# breaks: forward_process
def linear_beta_schedule(T, beta_start=1e-4, beta_end=0.02):
    """betas[0..T-1] evenly spaced from beta_start to beta_end (both included), float64 tensor of shape (T,)."""
    return torch.linspace(beta_start, beta_end, T, dtype=torch.float64)


def cosine_beta_schedule(T, s=0.008, max_beta=0.999):
    """The cosine schedule of Nichol & Dhariwal (2021), float64 tensor of shape (T,)."""
    tau = torch.arange(T + 1, dtype=torch.float64) / T
    f = torch.cos((tau + s) / (1 + s) * (math.pi / 2)) ** 2
    alpha_bar = f / f[0]
    return 1.0 - alpha_bar[1:] / alpha_bar[:-1]                         # BUG: no clamp(max=max_beta)
