# mutant: im2col calls F.unfold through a reference saved when the cell ran, before any check could swap it (red team: cnn-builtin-bypass)
# replaces: im2col_impl
# breaks: conv2d
# replace:
def im2col(x, kernel_size, stride=1, padding=0):
# with:
_UNFOLD = F.unfold     # captured before any check runs


def im2col(x, kernel_size, stride=1, padding=0):

# replace:
    h_out = conv_output_size(H, kh, sh, ph)
    w_out = conv_output_size(W, kw, sw, pw)
    xp = F.pad(x, (pw, pw, ph, ph))                                  # zeros around H and W
    # sliding windows as a view: (N, C, H_out, W_out, kh, kw)
    windows = xp.unfold(2, kh, sh).unfold(3, kw, sw)[:, :, :h_out, :w_out]
    cols = windows.permute(0, 1, 4, 5, 2, 3)                          # (N, C, kh, kw, H_out, W_out)
    return cols.reshape(N, C * kh * kw, h_out * w_out)               # reshape copies: any strides work
# with:
    return _UNFOLD(x, (kh, kw), stride=(sh, sw), padding=(ph, pw))
