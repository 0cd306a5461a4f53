# mutant: q_sample uses one step's alpha_t = 1 - beta_t instead of the cumulative product alpha_bar_t
# replaces: q_sample_impl
# breaks: forward_process
# replace:
    """Sample x_t ~ q(x_t | x0): sqrt(alpha_bar[t]) * x0 + sqrt(1 - alpha_bar[t]) * noise.

    x0, noise: (B, ...) tensors of one shape (x0 may be a non-contiguous view).
    t: int64 tensor (B,), 0-indexed steps in 0..T-1 (t = 0 already holds one step of noise).
    betas: float64 tensor (T,). alpha_bar = cumprod(1 - betas), so alpha_bar[t] = prod_{s<=t} (1 - betas[s]).
    Returns x_t with x0's shape and dtype.
    """
    ### BEGIN SOLUTION
    alpha_bar = torch.cumprod(1.0 - betas, dim=0)
    ab = alpha_bar[t].reshape(-1, *([1] * (x0.dim() - 1)))             # (B, 1, ..., 1)
    return (ab.sqrt() * x0 + (1.0 - ab).sqrt() * noise).to(x0.dtype)
# with:
    alpha = 1.0 - betas                                                   # BUG: alpha_t, not cumprod
    a = alpha[t].reshape(-1, *([1] * (x0.dim() - 1)))
    return (a.sqrt() * x0 + (1.0 - a).sqrt() * noise).to(x0.dtype)
