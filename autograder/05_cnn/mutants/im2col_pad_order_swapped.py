# mutant: F.pad arguments in (H, W) order: H gets the W padding and W the H padding
# replaces: im2col_impl
# breaks: conv2d
# replace:
    xp = F.pad(x, (pw, pw, ph, ph))                                  # zeros around H and W
# with:
    xp = F.pad(x, (ph, ph, pw, pw))                                  # (wrong: F.pad starts at the LAST dim)
