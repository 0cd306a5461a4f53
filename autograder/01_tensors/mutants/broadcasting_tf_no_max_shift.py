# mutant: no max subtraction: exp overflows to inf for logits above ~88 in float32
# replaces: broadcasting_tf_impl
# breaks: broadcasting
# replace:
    z = x - tf.reduce_max(x, axis=1, keepdims=True)
    e = tf.exp(z)
# with:
    e = tf.exp(x)
