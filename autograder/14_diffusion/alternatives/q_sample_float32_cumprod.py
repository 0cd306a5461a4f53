# alternative: alpha_bar as a float32 cumprod (the notebook does not ask for float64 arithmetic in q_sample), indexed with index_select
# replaces: q_sample_impl
# replace:
    alpha_bar = torch.cumprod(1.0 - betas, dim=0)
    ab = alpha_bar[t].reshape(-1, *([1] * (x0.dim() - 1)))             # (B, 1, ..., 1)
# with:
    alpha_bar = torch.cumprod(1.0 - betas.float(), dim=0)
    ab = alpha_bar.index_select(0, t.reshape(-1)).reshape(-1, *([1] * (x0.dim() - 1))).to(torch.float64)
