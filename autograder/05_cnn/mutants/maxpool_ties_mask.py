# mutant: backward sends the gradient to EVERY maximum of a window (mask x == max), not to the first one only
# replaces: maxpool_impl
# breaks: maxpool
def maxpool2d_forward(x, kernel_size, stride=None):
    """Max-pooling without padding, like F.max_pool2d(x, kernel_size, stride)."""
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    N, C, H, W = x.shape
    h_out = conv_output_size(H, kh, sh)
    w_out = conv_output_size(W, kw, sw)
    windows = im2col(x, (kh, kw), (sh, sw)).reshape(N, C, kh * kw, h_out * w_out)
    out = windows.max(dim=2).values
    cache = (tuple(x.shape), (kh, kw), (sh, sw), (h_out, w_out), windows, out)
    return out.reshape(N, C, h_out, w_out), cache


def maxpool2d_backward(grad_out, cache):
    """dL/dx from dL/dout; every element equal to its window's maximum gets the gradient."""
    (N, C, H, W), (kh, kw), (sh, sw), (h_out, w_out), windows, out = cache
    mask = (windows == out[:, :, None, :]).to(grad_out.dtype)              # all tied maxima
    gcols = mask * grad_out.reshape(N, C, 1, h_out * w_out)                # (N, C, kh*kw, L)
    grad_x = torch.zeros(N, C, H, W, dtype=grad_out.dtype)
    for i in range(kh):                                                    # col2im, adding overlaps
        for j in range(kw):
            grad_x[:, :, i:i + sh * (h_out - 1) + 1:sh, j:j + sw * (w_out - 1) + 1:sw] += \
                gcols[:, :, i * kw + j].reshape(N, C, h_out, w_out)
    return grad_x
