# mutant: top-k gates are the raw softmax probabilities, not renormalised to sum 1
# replaces: moe_impl
# breaks: moe
# replace:
    gates = top_p / top_p.sum(dim=-1, keepdim=True)
# with:
    gates = top_p                            # BUG: not renormalised
