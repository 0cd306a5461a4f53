# mutant: true convolution: the kernel is rotated by 180 degrees (F.conv2d does not flip it)
# replaces: conv2d_impl
# breaks: conv2d
def conv2d(x, weight, bias=None, stride=1, padding=0):
    """Same as F.conv2d(x, weight, bias, stride, padding) (cross-correlation, no kernel flip),
    computed with im2col and one matrix multiply.

    x: (N, C_in, H, W); weight: (C_out, C_in, kh, kw); bias: (C_out,) or None;
    stride, padding: int or (h, w). Returns (N, C_out, H_out, W_out).
    """
    N, C, H, W = x.shape
    C_out, C_in, kh, kw = weight.shape
    if C_in != C:
        raise ValueError(f"weight expects {C_in} input channels, x has {C}")
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    h_out = conv_output_size(H, kh, sh, ph)
    w_out = conv_output_size(W, kw, sw, pw)
    cols = im2col(x, (kh, kw), (sh, sw), (ph, pw))                 # (N, C*kh*kw, L)
    flipped = torch.flip(weight, dims=(2, 3))                      # textbook convolution
    out = flipped.reshape(C_out, C_in * kh * kw) @ cols            # (N, C_out, L)
    if bias is not None:
        out = out + bias.reshape(1, C_out, 1)
    return out.reshape(N, C_out, h_out, w_out)
