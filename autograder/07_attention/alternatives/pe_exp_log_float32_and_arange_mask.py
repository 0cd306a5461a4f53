# alternative: the classic exp(-ln(10000) * 2i / d) frequencies computed in float32
# replaces: pe_impl
def sinusoidal_positional_encoding(n_pos, d_model, offset=0):
    """The sinusoidal positional encoding of positions offset, ..., offset + n_pos - 1."""
    position = torch.arange(offset, offset + n_pos, dtype=torch.float32).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
    pe = torch.zeros(n_pos, d_model)
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term[: d_model // 2])
    return pe
