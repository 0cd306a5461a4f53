# mutant: LSTM gates forget bias_hh
# replaces: lstm_cell_impl
# breaks: lstm_cell
# replace:
    gates = x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh     # (B, 4H)
# with:
    gates = x @ weight_ih.T + bias_ih + h @ weight_hh.T               # BUG: no bias_hh
