# mutant: unpatchify permutes to (B, C, nt, nh, nw, pt, ph, pw) before the reshape (grid and patch axes not interleaved)
# replaces: patchify_impl
# breaks: patchify
# replace:
    x = x.permute(0, 4, 1, 5, 2, 6, 3, 7)                  # (B, C, nt, pt, nh, ph, nw, pw)
# with:
    x = x.permute(0, 4, 1, 2, 3, 5, 6, 7)                  # BUG: (B, C, nt, nh, nw, pt, ph, pw)
