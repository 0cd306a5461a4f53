# mutant: the temperature divides the caller's logits in place (logits.div_), so sampling changes its input
# replaces: sampling_impl
# breaks: sampling
# replace:
    z = logits / temperature
# with:
    z = logits.div_(temperature)                 # BUG: divides the caller's logits in place
