# mutant: q_sample with a 1-indexed t: alpha_bar gets a leading 1, so t = 0 is clean data and every t is one step short
# replaces: q_sample_impl
# breaks: forward_process
# replace:
    ab = alpha_bar[t].reshape(-1, *([1] * (x0.dim() - 1)))             # (B, 1, ..., 1)
# with:
    alpha_bar = torch.cat([torch.ones(1, dtype=alpha_bar.dtype), alpha_bar])   # BUG: alpha_bar[t] = prod_{s<t}
    ab = alpha_bar[t].reshape(-1, *([1] * (x0.dim() - 1)))
