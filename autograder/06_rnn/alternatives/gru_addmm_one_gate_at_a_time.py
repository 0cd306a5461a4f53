# alternative: GRU with torch.addmm on row slices of the weights, one gate at a time
# replaces: gru_cell_impl
def gru_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
    """One GRU step with torch.nn.GRUCell's weights (row blocks r, z, n)."""
    H = h.shape[-1]
    def side(inp, w, b, k):
        return torch.addmm(b[k * H:(k + 1) * H], inp, w[k * H:(k + 1) * H].t())
    r = torch.sigmoid(side(x, weight_ih, bias_ih, 0) + side(h, weight_hh, bias_hh, 0))
    z = torch.sigmoid(side(x, weight_ih, bias_ih, 1) + side(h, weight_hh, bias_hh, 1))
    n = torch.tanh(side(x, weight_ih, bias_ih, 2) + r * side(h, weight_hh, bias_hh, 2))
    return n + z * (h - n)
