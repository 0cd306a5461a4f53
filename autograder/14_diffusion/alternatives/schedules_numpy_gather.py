# alternative: the cosine schedule from NumPy float64 (math.pi, np.cos), the linear one from arange; q_sample with gather and view-free broadcasting
# replaces: q_sample_impl
def q_sample(x0, t, noise, betas):
    """Sample x_t ~ q(x_t | x0): sqrt(alpha_bar[t]) * x0 + sqrt(1 - alpha_bar[t]) * noise."""
    log_alpha_bar = torch.log1p(-betas.to(torch.float64)).cumsum(0)       # log prod (1 - beta_s), summed in logs
    ab = torch.gather(log_alpha_bar.exp(), 0, t.reshape(-1).to(torch.long))
    shape = (x0.shape[0],) + (1,) * (x0.ndim - 1)
    signal = torch.sqrt(ab).reshape(shape)
    noise_scale = torch.sqrt(1.0 - ab).reshape(shape)
    out = signal * x0.to(torch.float64) + noise_scale * noise.to(torch.float64)
    return out.to(dtype=x0.dtype)
