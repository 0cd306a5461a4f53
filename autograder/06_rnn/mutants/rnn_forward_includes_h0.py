# mutant: rnn_forward returns [h_0, h_1, ..., h_T] (T + 1 states) instead of [h_1, ..., h_T]
# replaces: bptt_impl
# breaks: bptt
# replace:
    h = h0
    hs = []
# with:
    h = h0
    hs = [h0]                                                   # BUG: h_0 included
