# alternative: both schedules computed in NumPy float64 and wrapped with torch.from_numpy; the linear one as start + step * arange
# replaces: schedules_impl
def linear_beta_schedule(T, beta_start=1e-4, beta_end=0.02):
    """betas[0..T-1] evenly spaced from beta_start to beta_end (both included), float64 tensor of shape (T,)."""
    step = (beta_end - beta_start) / (T - 1)
    return torch.from_numpy(beta_start + step * np.arange(T, dtype=np.float64))


def cosine_beta_schedule(T, s=0.008, max_beta=0.999):
    """The cosine schedule of Nichol & Dhariwal (2021), float64 tensor of shape (T,)."""
    def alpha_bar(tau):
        return np.cos((tau + s) / (1.0 + s) * math.pi / 2.0) ** 2 / np.cos(s / (1.0 + s) * math.pi / 2.0) ** 2
    i = np.arange(T, dtype=np.float64)
    betas = 1.0 - alpha_bar((i + 1) / T) / alpha_bar(i / T)
    return torch.from_numpy(np.minimum(betas, max_beta))
