# mutant: reset gate applied to h before the matmul, W_hn (r * h) + b_hn, instead of r * (W_hn h + b_hn)
# replaces: gru_cell_impl
# breaks: gru_cell
# replace:
    """One GRU step with torch.nn.GRUCell's weights (row blocks r, z, n).

    x: (B, I), h: (B, H); weight_ih: (3H, I), weight_hh: (3H, H); bias_ih, bias_hh: (3H,).
    n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn)), h' = (1 - z) * n + z * h.
    Returns h' (B, H) in x's dtype.
    """
    ### BEGIN SOLUTION
    gi = x @ weight_ih.T + bias_ih                     # (B, 3H): input side
    gh = h @ weight_hh.T + bias_hh                     # (B, 3H): hidden side, b_hh included
# with:
    H = h.shape[1]
    gi = x @ weight_ih.T + bias_ih

# replace:
    h_r, h_z, h_n = gh.chunk(3, dim=1)
# with:
    h_r = h @ weight_hh[:H].T + bias_hh[:H]
    h_z = h @ weight_hh[H:2 * H].T + bias_hh[H:2 * H]

# replace:
    n = torch.tanh(i_n + r * h_n)                      # the reset gate scales W_hn h + b_hn
# with:
    n = torch.tanh(i_n + (r * h) @ weight_hh[2 * H:].T + bias_hh[2 * H:])
