# mutant: rnn_cell hands the step to torch's own public kernel torch.rnn_tanh_cell (red team: rnn-builtin-cells)
# replaces: rnn_cell_impl
# breaks: rnn_cell
# replace:
    return torch.tanh(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh)
# with:
    return torch.rnn_tanh_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh)
