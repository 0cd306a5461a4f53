# alternative: max-pooling with explicit window loops, argmax by torch.argmax on each flattened window, backward with += per window
# replaces: maxpool_impl
def maxpool2d_forward(x, kernel_size, stride=None):
    """Max-pooling without padding, like F.max_pool2d(x, kernel_size, stride)."""
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    N, C, H, W = x.shape
    h_out, w_out = (H - kh) // sh + 1, (W - kw) // sw + 1
    out = x.new_empty(N, C, h_out, w_out)
    where = torch.empty(N, C, h_out, w_out, 2, dtype=torch.long)
    for h in range(h_out):
        for w in range(w_out):
            window = x[:, :, h * sh:h * sh + kh, w * sw:w * sw + kw].reshape(N, C, -1)
            flat = torch.argmax(window, dim=-1)                     # first maximum, row-major
            out[:, :, h, w] = window.gather(-1, flat[..., None])[..., 0]
            where[:, :, h, w, 0] = h * sh + flat // kw
            where[:, :, h, w, 1] = w * sw + flat % kw
    return out, (tuple(x.shape), where)


def maxpool2d_backward(grad_out, cache):
    """dL/dx from dL/dout = grad_out and the cache of maxpool2d_forward."""
    (N, C, H, W), where = cache
    grad_x = torch.zeros(N, C, H, W, dtype=grad_out.dtype)
    n_idx = torch.arange(N)[:, None]
    c_idx = torch.arange(C)[None, :]
    for h in range(grad_out.shape[2]):
        for w in range(grad_out.shape[3]):
            grad_x[n_idx, c_idx, where[:, :, h, w, 0], where[:, :, h, w, 1]] += grad_out[:, :, h, w]
    return grad_x
