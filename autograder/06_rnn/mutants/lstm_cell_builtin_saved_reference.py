# mutant: lstm_cell calls torch.lstm_cell through a reference saved when the cell ran (red team: rnn-builtin-cells)
# replaces: lstm_cell_impl
# breaks: lstm_cell
# replace:
def lstm_cell(x, state, weight_ih, weight_hh, bias_ih, bias_hh):
# with:
_LSTM_CELL = torch.lstm_cell     # captured before any check runs


def lstm_cell(x, state, weight_ih, weight_hh, bias_ih, bias_hh):

# replace:
    gates = x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh     # (B, 4H)
    i, f, g, o = gates.chunk(4, dim=1)
    i, f, o = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o)
    g = torch.tanh(g)
    c_new = f * c + i * g
    h_new = o * torch.tanh(c_new)
    return h_new, c_new
# with:
    return tuple(_LSTM_CELL(x, (h, c), weight_ih, weight_hh, bias_ih, bias_hh))
