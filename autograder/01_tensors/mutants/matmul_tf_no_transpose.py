# mutant: wrong axis: x @ W without the transpose (only runs when D_in == D_out, then wrong)
# replaces: matmul_tf_impl
# breaks: matmul
# replace:
    return tf.matmul(x, W, transpose_b=True) + b
# with:
    return tf.matmul(x, W) + b
