# mutant: im2col uses the height stride along both axes (stride (2, 1) behaves like (2, 2))
# replaces: im2col_impl
# breaks: conv2d
# replace:
    w_out = conv_output_size(W, kw, sw, pw)
    xp = F.pad(x, (pw, pw, ph, ph))                                  # zeros around H and W
    # sliding windows as a view: (N, C, H_out, W_out, kh, kw)
    windows = xp.unfold(2, kh, sh).unfold(3, kw, sw)[:, :, :h_out, :w_out]
# with:
    w_out = conv_output_size(W, kw, sh, pw)                          # BUG: sh for W too
    xp = F.pad(x, (pw, pw, ph, ph))
    windows = xp.unfold(2, kh, sh).unfold(3, kw, sh)[:, :, :h_out, :w_out]
