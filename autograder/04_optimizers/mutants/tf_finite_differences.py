# mutant: gradients by central finite differences instead of tf.GradientTape (the loss still falls)
# replaces: tf_impl
# breaks: tf_training_loop
# replace:
    """One step on the mean squared error mean((model_fn(x) - y)**2):
    record model_fn on a tf.GradientTape, take the gradient of the loss w.r.t. variables,
    apply it with optimizer.apply_gradients(zip(grads, variables)).
    Returns the loss computed BEFORE the update, as a Python float.
    """
    ### BEGIN SOLUTION
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model_fn(x) - y))
    grads = tape.gradient(loss, variables)
# with:
    def loss_now():
        return float(tf.reduce_mean(tf.square(model_fn(x) - y)))

    loss = loss_now()
    grads = []
    eps = 1e-6
    for v in variables:                                           # BUG: no tape
        base = v.numpy()
        g = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            bumped = base.copy()
            bumped[idx] += eps
            v.assign(bumped)
            plus = loss_now()
            bumped[idx] -= 2 * eps
            v.assign(bumped)
            minus = loss_now()
            g[idx] = (plus - minus) / (2 * eps)
        v.assign(base)
        grads.append(tf.constant(g))

# replace:
    return float(loss)
# with:
    return loss
