# mutant: logits are multiplied by the temperature instead of divided
# replaces: sampling_impl
# breaks: sampling
# replace:
    z = logits / temperature
# with:
    z = logits * temperature                     # BUG: multiplied
