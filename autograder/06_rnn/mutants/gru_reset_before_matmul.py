# mutant: reset gate applied to h before the matmul, W_hn (r * h) + b_hn, instead of r * (W_hn h + b_hn)
# replaces: gru_cell_impl
# breaks: gru_cell
def gru_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
    """One GRU step with torch.nn.GRUCell's weights."""
    H = h.shape[1]
    gi = x @ weight_ih.T + bias_ih
    i_r, i_z, i_n = gi.chunk(3, dim=1)
    h_r = h @ weight_hh[:H].T + bias_hh[:H]
    h_z = h @ weight_hh[H:2 * H].T + bias_hh[H:2 * H]
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + (r * h) @ weight_hh[2 * H:].T + bias_hh[2 * H:])
    return (1 - z) * n + z * h
