# mutant: LSTM tanh written with exp: NaN once |pre-activation| > 88 in float32
# replaces: lstm_cell_impl
# breaks: lstm_cell
# replace:
    g = torch.tanh(g)
# with:
    g = (torch.exp(g) - torch.exp(-g)) / (torch.exp(g) + torch.exp(-g))
