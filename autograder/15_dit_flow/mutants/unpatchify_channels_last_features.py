# mutant: unpatchify reads the in-token features as (pt, ph, pw, C) while patchify writes (C, pt, ph, pw): round trip fails
# replaces: patchify_impl
# breaks: patchify
# replace:
    x = tokens.reshape(B, nt, nh, nw, C, pt, ph, pw)
    x = x.permute(0, 4, 1, 5, 2, 6, 3, 7)                  # (B, C, nt, pt, nh, ph, nw, pw)
# with:
    x = tokens.reshape(B, nt, nh, nw, pt, ph, pw, C)   # BUG: channels last inside the token
    x = x.permute(0, 7, 1, 4, 2, 5, 3, 6)                  # (B, C, nt, pt, nh, ph, nw, pw)
