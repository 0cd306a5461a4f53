# mutant: sigmoid on the candidate g instead of tanh
# replaces: lstm_cell_impl
# breaks: lstm_cell
# replace:
    i, f, o = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o)
    g = torch.tanh(g)
# with:
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(g), torch.sigmoid(o)

# replace:
    h_new = o * torch.tanh(c_new)
    return h_new, c_new
# with:
    return o * torch.tanh(c_new), c_new
