# mutant: BPTT starts from G_T and never adds the upstream gradients G_t of the earlier steps
# replaces: bptt_impl
# breaks: bptt
# replace:
        delta = grad_hs[t] + ((1 - hs[t + 1] ** 2) * delta) @ weight_hh
# with:
        delta = ((1 - hs[t + 1] ** 2) * delta) @ weight_hh
