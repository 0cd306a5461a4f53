# alternative: sin and cos stacked and interleaved, cut to d_model columns
# replaces: pe_impl
def sinusoidal_positional_encoding(n_pos, d_model, offset=0):
    pos = (torch.arange(n_pos, dtype=torch.float64) + offset).unsqueeze(1)
    half = (d_model + 1) // 2
    freq = 10000.0 ** (-(2.0 * torch.arange(half, dtype=torch.float64)) / d_model)
    angle = pos * freq
    pe = torch.stack([torch.sin(angle), torch.cos(angle)], dim=-1).reshape(n_pos, 2 * half)
    return pe[:, :d_model].float()
