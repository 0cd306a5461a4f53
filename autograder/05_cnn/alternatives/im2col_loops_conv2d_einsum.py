# alternative: im2col with one strided slice per kernel position (the prose's hint), conv2d with einsum
# replaces: im2col_impl
def im2col(x, kernel_size, stride=1, padding=0):
    """Unfold every receptive field of x into a column."""
    kh, kw = pair(kernel_size)
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    N, C, H, W = x.shape
    h_out = conv_output_size(H, kh, sh, ph)
    w_out = conv_output_size(W, kw, sw, pw)
    xp = F.pad(x, (pw, pw, ph, ph))
    cols = x.new_zeros(N, C, kh, kw, h_out, w_out)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = xp[:, :, i:i + sh * (h_out - 1) + 1:sh, j:j + sw * (w_out - 1) + 1:sw]
    return cols.reshape(N, C * kh * kw, h_out * w_out)
