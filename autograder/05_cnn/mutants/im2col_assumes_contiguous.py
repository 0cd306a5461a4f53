# mutant: as_strided with strides computed from the shape: wrong for a permuted (NHWC) view
# replaces: im2col_impl
# breaks: conv2d
# replace:
    xp = F.pad(x, (pw, pw, ph, ph))                                  # zeros around H and W
    # sliding windows as a view: (N, C, H_out, W_out, kh, kw)
    windows = xp.unfold(2, kh, sh).unfold(3, kw, sw)[:, :, :h_out, :w_out]
# with:
    xp = F.pad(x, (pw, pw, ph, ph)) if (ph or pw) else x
    Hp, Wp = xp.shape[2], xp.shape[3]
    st = (C * Hp * Wp, Hp * Wp, Wp, 1)                # strides of a CONTIGUOUS tensor of this shape
    windows = torch.as_strided(xp, (N, C, h_out, w_out, kh, kw),
                               (st[0], st[1], sh * st[2], sw * st[3], st[2], st[3]))
