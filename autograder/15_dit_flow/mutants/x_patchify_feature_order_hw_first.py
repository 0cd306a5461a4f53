# mutant: patchify orders a token's features (c, ph, pt, pw) instead of Conv3d's (c, pt, ph, pw)
# replaces: patchify_impl
# breaks: patchify
# replace:
    x = x.permute(0, 2, 4, 6, 1, 3, 5, 7)                  # (B, nt, nh, nw, C, pt, ph, pw)
# with:
    x = x.permute(0, 2, 4, 6, 1, 5, 3, 7)                  # BUG: (B, nt, nh, nw, C, ph, pt, pw)
