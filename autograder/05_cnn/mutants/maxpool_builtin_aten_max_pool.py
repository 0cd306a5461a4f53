# mutant: max-pooling forward and backward through torch.ops.aten.max_pool2d_with_indices and autograd (red team: cnn-builtin-bypass)
# replaces: maxpool_impl
# breaks: maxpool
# replace:
    h_out = conv_output_size(H, kh, sh)
    w_out = conv_output_size(W, kw, sw)
    windows = im2col(x, (kh, kw), (sh, sw)).reshape(N, C, kh * kw, h_out * w_out)
    out, arg = windows.max(dim=2)              # arg: first maximum of each window, in (i, j) order
    cache = (tuple(x.shape), (kh, kw), (sh, sw), (h_out, w_out), arg)
    return out.reshape(N, C, h_out, w_out), cache
# with:
    out, _ = torch.ops.aten.max_pool2d_with_indices(x, [kh, kw], [sh, sw])
    return out, (x, (kh, kw), (sh, sw))

# replace:
    (N, C, H, W), (kh, kw), (sh, sw), (h_out, w_out), arg = cache
    out_rows = torch.arange(h_out).repeat_interleave(w_out)       # h of each column h*w_out + w
    out_cols = torch.arange(w_out).repeat(h_out)                  # w of each column
    rows = out_rows * sh + arg // kw                              # input row of the argmax
    cols = out_cols * sw + arg % kw                               # input column of the argmax
    flat = rows * W + cols                                        # (N, C, L) indices into H*W
    grad_x = torch.zeros(N, C, H * W, dtype=grad_out.dtype)
    grad_x.scatter_add_(2, flat, grad_out.reshape(N, C, h_out * w_out))   # adds duplicates
    return grad_x.reshape(N, C, H, W)
# with:
    x, k, s = cache
    xt = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        out, _ = torch.ops.aten.max_pool2d_with_indices(xt, list(k), list(s))
        (out * grad_out).sum().backward()
    return xt.grad
