# mutant: GRU candidate without the reset gate: n = tanh(W_in x + b_in + W_hn h + b_hn)
# replaces: gru_cell_impl
# breaks: gru_cell
# replace:
    n = torch.tanh(i_n + r * h_n)                      # the reset gate scales W_hn h + b_hn
# with:
    n = torch.tanh(i_n + h_n)                          # BUG: r unused
