# mutant: RoPE returns a detached tensor: no gradient reaches q and k, attention cannot be trained
# replaces: rope_impl
# breaks: rope
# replace:
    return x * angles.cos() + rotate_half(x) * angles.sin()
# with:
    return (x * angles.cos() + rotate_half(x) * angles.sin()).detach()     # BUG: cuts the graph
