# mutant: gate blocks read as z, r, n (Keras' order) instead of PyTorch's r, z, n
# replaces: gru_cell_impl
# breaks: gru_cell
def gru_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
    """One GRU step with torch.nn.GRUCell's weights."""
    gi = x @ weight_ih.T + bias_ih
    gh = h @ weight_hh.T + bias_hh
    i_z, i_r, i_n = gi.chunk(3, dim=1)
    h_z, h_r, h_n = gh.chunk(3, dim=1)
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h
