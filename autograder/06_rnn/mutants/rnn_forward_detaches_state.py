# mutant: rnn_forward detaches the state between steps (truncated BPTT of one step): values right, gradients cut
# replaces: bptt_impl
# breaks: bptt
# replace:
        h = rnn_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh)
# with:
        h = rnn_cell(x, h.detach(), weight_ih, weight_hh, bias_ih, bias_hh)   # BUG: cuts the graph
