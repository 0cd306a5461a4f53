# mutant: as_strided with strides computed from the shape: wrong for a permuted (NHWC) view
# replaces: im2col_impl
# breaks: conv2d
def im2col(x, kernel_size, stride=1, padding=0):
    """Unfold every receptive field of x into a column.

    x: (N, C, H, W) tensor, possibly non-contiguous. kernel_size, stride, padding: int or (h, w).
    Returns cols of shape (N, C*kh*kw, H_out*W_out) with
        cols[n, c*kh*kw + i*kw + j, h*W_out + w] = x_padded[n, c, h*sh + i, w*sw + j]
    (zero padding; the same layout as F.unfold, which you may not call here).
    """
    kh, kw = pair(kernel_size)
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    N, C, H, W = x.shape
    h_out = conv_output_size(H, kh, sh, ph)
    w_out = conv_output_size(W, kw, sw, pw)
    xp = F.pad(x, (pw, pw, ph, ph)) if (ph or pw) else x
    Hp, Wp = xp.shape[2], xp.shape[3]
    st = (C * Hp * Wp, Hp * Wp, Wp, 1)                # strides of a CONTIGUOUS tensor of this shape
    windows = torch.as_strided(xp, (N, C, h_out, w_out, kh, kw),
                               (st[0], st[1], sh * st[2], sw * st[3], st[2], st[3]))
    cols = windows.permute(0, 1, 4, 5, 2, 3)                          # (N, C, kh, kw, H_out, W_out)
    return cols.reshape(N, C * kh * kw, h_out * w_out)               # reshape copies: any strides work
