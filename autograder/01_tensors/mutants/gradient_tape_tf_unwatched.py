# mutant: the tape never watches the tf.constant x, so tape.gradient returns None
# replaces: gradient_tape_tf_impl
# breaks: gradient_tape_tf
def value_and_grad_tf(f, x):
    """Return (f(x), gradient of f at x) computed with tf.GradientTape, both as tf.Tensor."""
    with tf.GradientTape() as tape:
        value = f(x)
    grad = tape.gradient(value, x)
    return value, grad
