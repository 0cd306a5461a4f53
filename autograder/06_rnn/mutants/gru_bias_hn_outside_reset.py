# mutant: bias_hh's n block added outside the reset gate, r * (W_hn h) + b_hn (all biases summed up front)
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
    gi = x @ weight_ih.T + bias_ih + bias_hh
    gh = h @ weight_hh.T
