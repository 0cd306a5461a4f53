# mutant: gate blocks read as i, f, o, g (another framework's order) instead of PyTorch's i, f, g, o
# replaces: lstm_cell_impl
# breaks: lstm_cell
# replace:
    gates = x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh     # (B, 4H)
    i, f, g, o = gates.chunk(4, dim=1)
# with:
    gates = x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh
    i, f, o, g = gates.chunk(4, dim=1)

# replace:
    h_new = o * torch.tanh(c_new)
    return h_new, c_new
# with:
    return o * torch.tanh(c_new), c_new
