# mutant: forgets bias_hh (only bias_ih is added)
# replaces: rnn_cell_impl
# breaks: rnn_cell
def rnn_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
    """One step of a tanh RNN with torch.nn.RNNCell's weights."""
    return torch.tanh(x @ weight_ih.T + bias_ih + h @ weight_hh.T)
