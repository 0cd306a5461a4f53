# mutant: cosine schedule without the offset s (f(tau) = cos^2(tau * pi / 2)): the first betas are ~17x too small
# replaces: schedules_impl
# breaks: forward_process
def linear_beta_schedule(T, beta_start=1e-4, beta_end=0.02):
    """betas[0..T-1] evenly spaced from beta_start to beta_end (both included), float64 tensor of shape (T,)."""
    return torch.linspace(beta_start, beta_end, T, dtype=torch.float64)


def cosine_beta_schedule(T, s=0.008, max_beta=0.999):
    """The cosine schedule of Nichol & Dhariwal (2021), float64 tensor of shape (T,)."""
    tau = torch.arange(T + 1, dtype=torch.float64) / T
    f = torch.cos(tau * (math.pi / 2)) ** 2                              # BUG: (tau + s) / (1 + s) missing
    alpha_bar = f / f[0]
    betas = 1.0 - alpha_bar[1:] / alpha_bar[:-1]
    return torch.clamp(betas, max=max_beta)
