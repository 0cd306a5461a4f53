# mutant: F.pad arguments in (H, W) order: H gets the W padding and W the H padding
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
    xp = F.pad(x, (ph, ph, pw, pw))                                  # (wrong: F.pad starts at the LAST dim)
    # sliding windows as a view: (N, C, H_out, W_out, kh, kw)
    windows = xp.unfold(2, kh, sh).unfold(3, kw, sw)[:, :, :h_out, :w_out]
    cols = windows.permute(0, 1, 4, 5, 2, 3)                          # (N, C, kh, kw, H_out, W_out)
    return cols.reshape(N, C * kh * kw, h_out * w_out)               # reshape copies: any strides work
