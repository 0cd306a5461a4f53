# alternative: the three cells with F.linear for both sides and torch.split on the gate blocks
# replaces: lstm_cell_impl
def lstm_cell(x, state, weight_ih, weight_hh, bias_ih, bias_hh):
    """One LSTM step with torch.nn.LSTMCell's weights (row blocks i, f, g, o)."""
    h, c = state
    H = h.shape[-1]
    gates = torch.nn.functional.linear(x, weight_ih, bias_ih) + torch.nn.functional.linear(h, weight_hh, bias_hh)
    i, f, g, o = torch.split(gates, H, dim=-1)
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c_new), c_new
