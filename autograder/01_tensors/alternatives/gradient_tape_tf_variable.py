# alternative: value_and_grad_tf through a tf.Variable copy of x (watched automatically), gradient as a tensor
# replaces: gradient_tape_tf_impl
def value_and_grad_tf(f, x):
    """Return (f(x), gradient of f at x) computed with tf.GradientTape, both as tf.Tensor."""
    v = tf.Variable(x)
    with tf.GradientTape() as tape:
        value = f(v)
    return tf.convert_to_tensor(value), tf.convert_to_tensor(tape.gradient(value, v))
