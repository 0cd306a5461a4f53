# mutant: BPTT multiplies by W_hh^T instead of W_hh (square, so no shape error)
# replaces: bptt_impl
# breaks: bptt
# replace:
        delta = grad_hs[t] + ((1 - hs[t + 1] ** 2) * delta) @ weight_hh
# with:
        delta = grad_hs[t] + ((1 - hs[t + 1] ** 2) * delta) @ weight_hh.T
