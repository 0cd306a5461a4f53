# mutant: sin in the first half of the columns and cos in the second half, not interleaved
# replaces: pe_impl
# breaks: positional_encoding
# replace:
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle[:, : d_model // 2])
# with:
    half = angle.shape[1]
    pe[:, :half] = torch.sin(angle)                                                # BUG: halves
    pe[:, half:] = torch.cos(angle[:, : d_model // 2])
