# mutant: gate blocks read as z, r, n (Keras' order) instead of PyTorch's r, z, n
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
    i_r, i_z, i_n = gi.chunk(3, dim=1)
    h_r, h_z, h_n = gh.chunk(3, dim=1)
# with:
    gi = x @ weight_ih.T + bias_ih
    gh = h @ weight_hh.T + bias_hh
    i_z, i_r, i_n = gi.chunk(3, dim=1)
    h_z, h_r, h_n = gh.chunk(3, dim=1)
