# mutant: the encoding is computed in float64 and returned without the cast to float32 the docstring asks for
# replaces: pe_impl
# breaks: positional_encoding
# replace:
    return pe.to(torch.float32)
# with:
    return pe                                                   # BUG: float64, not float32
