# mutant: overlapping windows overwrite each other's gradient (scatter_ instead of scatter_add_)
# replaces: maxpool_impl
# breaks: maxpool
def maxpool2d_forward(x, kernel_size, stride=None):
    """Max-pooling without padding, like F.max_pool2d(x, kernel_size, stride).

    x: (N, C, H, W), possibly non-contiguous. kernel_size, stride: int or (h, w); stride=None means
    stride = kernel_size. Returns (out, cache): out of shape (N, C, H_out, W_out) and whatever
    maxpool2d_backward needs. Ties: the first maximum of a window in row-major order is the argmax.
    """
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    N, C, H, W = x.shape
    h_out = conv_output_size(H, kh, sh)
    w_out = conv_output_size(W, kw, sw)
    windows = im2col(x, (kh, kw), (sh, sw)).reshape(N, C, kh * kw, h_out * w_out)
    out, arg = windows.max(dim=2)              # arg: first maximum of each window, in (i, j) order
    cache = (tuple(x.shape), (kh, kw), (sh, sw), (h_out, w_out), arg)
    return out.reshape(N, C, h_out, w_out), cache


def maxpool2d_backward(grad_out, cache):
    """dL/dx from dL/dout = grad_out (N, C, H_out, W_out) and the cache of maxpool2d_forward.

    Each output's gradient goes to its window's argmax only; when windows overlap, the
    contributions to one input element are ADDED. Returns grad_x with the shape of x.
    """
    (N, C, H, W), (kh, kw), (sh, sw), (h_out, w_out), arg = cache
    out_rows = torch.arange(h_out).repeat_interleave(w_out)       # h of each column h*w_out + w
    out_cols = torch.arange(w_out).repeat(h_out)                  # w of each column
    rows = out_rows * sh + arg // kw                              # input row of the argmax
    cols = out_cols * sw + arg % kw                               # input column of the argmax
    flat = rows * W + cols                                        # (N, C, L) indices into H*W
    grad_x = torch.zeros(N, C, H * W, dtype=grad_out.dtype)
    grad_x.scatter_(2, flat, grad_out.reshape(N, C, h_out * w_out))       # duplicates overwrite
    return grad_x.reshape(N, C, H, W)
