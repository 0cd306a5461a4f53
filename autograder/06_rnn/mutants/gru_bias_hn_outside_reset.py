# mutant: bias_hh's n block added outside the reset gate, r * (W_hn h) + b_hn (all biases summed up front)
# replaces: gru_cell_impl
# breaks: gru_cell
def gru_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
    """One GRU step with torch.nn.GRUCell's weights."""
    gi = x @ weight_ih.T + bias_ih + bias_hh
    gh = h @ weight_hh.T
    i_r, i_z, i_n = gi.chunk(3, dim=1)
    h_r, h_z, h_n = gh.chunk(3, dim=1)
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h
