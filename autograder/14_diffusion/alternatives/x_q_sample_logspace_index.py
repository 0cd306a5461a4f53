# alternative: alpha_bar in log space (exp of cumsum of log1p), broadcast by indexing with None
# replaces: q_sample_impl
# replace:
    alpha_bar = torch.cumprod(1.0 - betas, dim=0)
    ab = alpha_bar[t].reshape(-1, *([1] * (x0.dim() - 1)))             # (B, 1, ..., 1)
    return (ab.sqrt() * x0 + (1.0 - ab).sqrt() * noise).to(x0.dtype)
# with:
    log_ab = torch.cumsum(torch.log1p(-betas.double()), dim=0)
    ab = torch.exp(log_ab)[t][(...,) + (None,) * (x0.dim() - 1)]
    one_minus = -torch.expm1(log_ab)[t][(...,) + (None,) * (x0.dim() - 1)]
    return (torch.sqrt(ab) * x0.double() + torch.sqrt(one_minus) * noise.double()).to(x0.dtype)
