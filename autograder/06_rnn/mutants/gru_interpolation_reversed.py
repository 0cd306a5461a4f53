# mutant: the seed table's interpolation h' = (1 - z) * h + z * n instead of PyTorch's (1 - z) * n + z * h
# replaces: gru_cell_impl
# breaks: gru_cell
# replace:
    n = torch.tanh(i_n + r * h_n)                      # the reset gate scales W_hn h + b_hn
    return (1 - z) * n + z * h
# with:
    n = torch.tanh(i_n + r * h_n)
    return (1 - z) * h + z * n
