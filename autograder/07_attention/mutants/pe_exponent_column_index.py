# mutant: the exponent uses the column index j (10000^(j/d)) instead of the pair's even index 2i
# replaces: pe_impl
# breaks: positional_encoding
# replace:
    """The sinusoidal positional encoding of positions offset, ..., offset + n_pos - 1.

    PE[p, 2i]   = sin(pos / 10000^(2i / d_model))
    PE[p, 2i+1] = cos(pos / 10000^(2i / d_model))      with pos = offset + p.
    Returns a float32 tensor of shape (n_pos, d_model). For an odd d_model the last column is a
    sin column (its cos partner would be column d_model, which does not exist).
    """
    ### BEGIN SOLUTION
    pos = torch.arange(offset, offset + n_pos, dtype=torch.float64)[:, None]     # (n_pos, 1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)                       # 0, 2, 4, ...
    angle = pos / torch.pow(10000.0, two_i / d_model)                              # (n_pos, ceil(d/2))
    pe = torch.zeros(n_pos, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle[:, : d_model // 2])
# with:
    pos = torch.arange(offset, offset + n_pos, dtype=torch.float64)[:, None]
    j = torch.arange(d_model, dtype=torch.float64)
    angle = pos / torch.pow(10000.0, j / d_model)                       # BUG: cos columns use j = 2i + 1
    pe = torch.where(j.long() % 2 == 0, torch.sin(angle), torch.cos(angle))
