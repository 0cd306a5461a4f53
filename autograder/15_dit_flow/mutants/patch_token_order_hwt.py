# mutant: patchify and unpatchify agree (round trip passes) but tokens are in (h, w, t) order, not (t, h, w)
# replaces: patchify_impl
# breaks: patchify
# replace:
    x = x.permute(0, 2, 4, 6, 1, 3, 5, 7)                  # (B, nt, nh, nw, C, pt, ph, pw)
# with:
    x = x.permute(0, 4, 6, 2, 1, 3, 5, 7)                  # BUG: (B, nh, nw, nt, ...): time is the fastest axis

# replace:
    x = tokens.reshape(B, nt, nh, nw, C, pt, ph, pw)
    x = x.permute(0, 4, 1, 5, 2, 6, 3, 7)                  # (B, C, nt, pt, nh, ph, nw, pw)
# with:
    x = tokens.reshape(B, nh, nw, nt, C, pt, ph, pw)
    x = x.permute(0, 4, 3, 5, 1, 6, 2, 7)                  # (B, C, nt, pt, nh, ph, nw, pw)
