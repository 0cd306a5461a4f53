# mutant: the tf version falls back to NumPy and returns an np.ndarray instead of a tf.Tensor
# replaces: shape_dtype_tf_impl
# breaks: shape_dtype
def make_tensor_tf(data):
    """Return (t, rank, shape): a new float32 tf.Tensor with the values of `data`,
    its number of axes as a Python int and its shape as a tuple of Python ints."""
    t = np.array(data, dtype=np.float32)
    return t, t.ndim, tuple(t.shape)
