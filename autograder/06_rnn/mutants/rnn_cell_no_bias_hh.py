# mutant: forgets bias_hh (only bias_ih is added)
# replaces: rnn_cell_impl
# breaks: rnn_cell
# replace:
    """One step of a tanh RNN with torch.nn.RNNCell's weights.

    x: (B, I), h: (B, H), weight_ih: (H, I), weight_hh: (H, H), bias_ih: (H,), bias_hh: (H,).
    Returns h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh), shape (B, H), in x's dtype.
    """
    ### BEGIN SOLUTION
    return torch.tanh(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh)
# with:
    return torch.tanh(x @ weight_ih.T + bias_ih + h @ weight_hh.T)
