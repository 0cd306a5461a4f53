# mutant: BPTT forgets the tanh derivative (1 - h^2) in the recurrence
# replaces: bptt_impl
# breaks: bptt
# replace:
        delta = grad_hs[t] + ((1 - hs[t + 1] ** 2) * delta) @ weight_hh
# with:
        delta = grad_hs[t] + delta @ weight_hh                  # BUG: no (1 - h^2)
