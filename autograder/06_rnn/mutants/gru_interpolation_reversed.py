# mutant: the seed table's interpolation h' = (1 - z) * h + z * n instead of PyTorch's (1 - z) * n + z * h
# replaces: gru_cell_impl
# breaks: gru_cell
def gru_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
    """One GRU step with torch.nn.GRUCell's weights."""
    gi = x @ weight_ih.T + bias_ih
    gh = h @ weight_hh.T + bias_hh
    i_r, i_z, i_n = gi.chunk(3, dim=1)
    h_r, h_z, h_n = gh.chunk(3, dim=1)
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return (1 - z) * h + z * n
