# mutant: positions always start at 0 (offset ignored)
# replaces: pe_impl
# breaks: positional_encoding
# replace:
    pos = torch.arange(offset, offset + n_pos, dtype=torch.float64)[:, None]     # (n_pos, 1)
# with:
    pos = torch.arange(0, n_pos, dtype=torch.float64)[:, None]                    # BUG: no offset
