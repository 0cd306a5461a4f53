# mutant: plain reshape in both directions: right shapes, consistent round trip, tokens are not patches
# replaces: patchify_impl
# breaks: patchify
# replace:
    x = x.reshape(B, C, nt, pt, nh, ph, nw, pw)
    x = x.permute(0, 2, 4, 6, 1, 3, 5, 7)                  # (B, nt, nh, nw, C, pt, ph, pw)
    return x.reshape(B, nt * nh * nw, C * pt * ph * pw)
# with:
    return x.reshape(B, nt * nh * nw, C * pt * ph * pw)   # BUG: no permute

# replace:
    x = tokens.reshape(B, nt, nh, nw, C, pt, ph, pw)
    x = x.permute(0, 4, 1, 5, 2, 6, 3, 7)                  # (B, C, nt, pt, nh, ph, nw, pw)
    return x.reshape(B, C, T, H, W)
# with:
    return tokens.reshape(B, C, T, H, W)
