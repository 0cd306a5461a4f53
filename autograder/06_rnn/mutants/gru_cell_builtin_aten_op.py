# mutant: gru_cell calls the aten operator torch.ops.aten.gru_cell directly (red team: rnn-builtin-cells)
# replaces: gru_cell_impl
# breaks: gru_cell
# replace:
    gi = x @ weight_ih.T + bias_ih                     # (B, 3H): input side
    gh = h @ weight_hh.T + bias_hh                     # (B, 3H): hidden side, b_hh included
    i_r, i_z, i_n = gi.chunk(3, dim=1)
    h_r, h_z, h_n = gh.chunk(3, dim=1)
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)                      # the reset gate scales W_hn h + b_hn
    return (1 - z) * n + z * h
# with:
    return torch.ops.aten.gru_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh)
