# mutant: GRU candidate tanh written with exp: NaN once |pre-activation| > 88 in float32
# replaces: gru_cell_impl
# breaks: gru_cell
# replace:
    n = torch.tanh(i_n + r * h_n)                      # the reset gate scales W_hn h + b_hn
# with:
    a = i_n + r * h_n
    n = (torch.exp(a) - torch.exp(-a)) / (torch.exp(a) + torch.exp(-a))
