# mutant: log-softmax Jacobian transposed: delta_ij - s_i instead of delta_ij - s_j
# replaces: softmax_impl
# breaks: softmax_jacobian
def softmax(x):
    """Softmax over the last axis, numerically stable (subtract the row max first). x: (..., C)."""
    x = np.asarray(x, dtype=np.float64)
    z = x - x.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def softmax_jacobian(x):
    """J[..., i, j] = d softmax(x)_i / d x_j = s_i * (delta_ij - s_j), i.e. diag(s) - s s^T per row.
    x: (..., C) -> (..., C, C)."""
    s = softmax(x)
    eye = np.eye(s.shape[-1])
    return s[..., :, None] * eye - s[..., :, None] * s[..., None, :]


def log_softmax_jacobian(x):
    """J[..., i, j] = d log(softmax(x)_i) / d x_j = delta_ij - s_j, i.e. I - 1 s^T per row.
    x: (..., C) -> (..., C, C)."""
    s = softmax(x)
    eye = np.eye(s.shape[-1])
    return eye - s[..., :, None]                       # BUG: J^T
