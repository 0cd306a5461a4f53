# mutant: wrong axis: x @ W without the transpose (only runs when D_in == D_out, then wrong)
# replaces: matmul_tf_impl
# breaks: matmul
def linear_tf(x, W, b):
    """Fully connected layer x @ W^T + b; x: (..., D_in), W: (D_out, D_in), b: (D_out,)."""
    return tf.matmul(x, W) + b
