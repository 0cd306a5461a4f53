# mutant: conv2d calls the aten operator torch.ops.aten.convolution, which no attribute swap covers (red team: cnn-builtin-bypass)
# replaces: conv2d_impl
# breaks: conv2d
# replace:
    cols = im2col(x, (kh, kw), (sh, sw), (ph, pw))                 # (N, C*kh*kw, L)
    out = weight.reshape(C_out, C_in * kh * kw) @ cols             # (N, C_out, L)
    if bias is not None:
        out = out + bias.reshape(1, C_out, 1)
    return out.reshape(N, C_out, h_out, w_out)
# with:
    return torch.ops.aten.convolution(x, weight, bias, [sh, sw], [ph, pw], [1, 1], False, [0, 0], 1)
