# mutant: the tf version falls back to NumPy and returns an np.ndarray instead of a tf.Tensor
# replaces: shape_dtype_tf_impl
# breaks: shape_dtype
# replace:
    t = tf.constant(data, dtype=tf.float32)
# with:
    t = np.array(data, dtype=np.float32)
