# mutant: temperature 0 is not special-cased: logits / 0 gives inf and NaN probabilities
# replaces: sampling_impl
# breaks: sampling
# replace:
    if temperature == 0:
        return torch.argmax(logits, dim=-1)
    z = logits / temperature
# with:
    z = logits / temperature                                    # BUG: no greedy branch
