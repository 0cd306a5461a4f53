# mutant: backward sends the gradient to EVERY maximum of a window (mask x == max), not to the first one only
# replaces: maxpool_impl
# breaks: maxpool
# replace:
    out, arg = windows.max(dim=2)              # arg: first maximum of each window, in (i, j) order
    cache = (tuple(x.shape), (kh, kw), (sh, sw), (h_out, w_out), arg)
# with:
    out = windows.max(dim=2).values
    cache = (tuple(x.shape), (kh, kw), (sh, sw), (h_out, w_out), windows, out)

# replace:
    """dL/dx from dL/dout = grad_out (N, C, H_out, W_out) and the cache of maxpool2d_forward.

    Each output's gradient goes to its window's argmax only; when windows overlap, the
    contributions to one input element are ADDED. Returns grad_x with the shape of x.
    """
    ### BEGIN SOLUTION
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
    (N, C, H, W), (kh, kw), (sh, sw), (h_out, w_out), windows, out = cache
    mask = (windows == out[:, :, None, :]).to(grad_out.dtype)              # all tied maxima
    gcols = mask * grad_out.reshape(N, C, 1, h_out * w_out)                # (N, C, kh*kw, L)
    grad_x = torch.zeros(N, C, H, W, dtype=grad_out.dtype)
    for i in range(kh):                                                    # col2im, adding overlaps
        for j in range(kw):
            grad_x[:, :, i:i + sh * (h_out - 1) + 1:sh, j:j + sw * (w_out - 1) + 1:sw] += \
                gcols[:, :, i * kw + j].reshape(N, C, h_out, w_out)
    return grad_x
