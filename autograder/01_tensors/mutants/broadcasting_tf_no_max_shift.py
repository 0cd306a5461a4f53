# mutant: no max subtraction: exp overflows to inf for logits above ~88 in float32
# replaces: broadcasting_tf_impl
# breaks: broadcasting
def softmax_rows_tf(x):
    """Row-wise softmax of a (N, C) float32 tf.Tensor, computed with the row max subtracted."""
    e = tf.exp(x)
    return e / tf.reduce_sum(e, axis=1, keepdims=True)
