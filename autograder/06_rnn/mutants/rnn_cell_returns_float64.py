# mutant: rnn_cell computes in float64 and forgets to cast back: float32 inputs give a float64 result
# replaces: rnn_cell_impl
# breaks: rnn_cell
# replace:
    return torch.tanh(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh)
# with:
    x, h = x.double(), h.double()
    return torch.tanh(x @ weight_ih.double().T + bias_ih.double() + h @ weight_hh.double().T + bias_hh.double())
