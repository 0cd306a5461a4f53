# mutant: LSTM output h = o * c (the tanh of the cell state is missing)
# replaces: lstm_cell_impl
# breaks: lstm_cell
# replace:
    h_new = o * torch.tanh(c_new)
# with:
    h_new = o * c_new                                           # BUG: no tanh
