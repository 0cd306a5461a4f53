# mutant: q_sample reshapes alpha_bar[t] to (B, 1, 1, 1): broadcasts only for 4-D image batches
# replaces: q_sample_impl
# breaks: forward_process
# replace:
    ab = alpha_bar[t].reshape(-1, *([1] * (x0.dim() - 1)))             # (B, 1, ..., 1)
# with:
    ab = alpha_bar[t].view(-1, 1, 1, 1)                                 # BUG: images only
