# mutant: the exponent uses the column index j (10000^(j/d)) instead of the pair's even index 2i
# replaces: pe_impl
# breaks: positional_encoding
def sinusoidal_positional_encoding(n_pos, d_model, offset=0):
    """The sinusoidal positional encoding of positions offset, ..., offset + n_pos - 1."""
    pos = torch.arange(offset, offset + n_pos, dtype=torch.float64)[:, None]
    j = torch.arange(d_model, dtype=torch.float64)
    angle = pos / torch.pow(10000.0, j / d_model)                       # BUG: cos columns use j = 2i + 1
    pe = torch.where(j.long() % 2 == 0, torch.sin(angle), torch.cos(angle))
    return pe.to(torch.float32)
