# mutant: tanh written as (e^a - e^-a) / (e^a + e^-a): inf / inf = NaN for large pre-activations
# replaces: rnn_cell_impl
# breaks: rnn_cell
# replace:
    return torch.tanh(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh)
# with:
    a = x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh
    return (torch.exp(a) - torch.exp(-a)) / (torch.exp(a) + torch.exp(-a))
