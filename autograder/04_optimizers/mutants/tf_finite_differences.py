# mutant: gradients by central finite differences instead of tf.GradientTape (the loss still falls)
# replaces: tf_impl
# breaks: tf_training_loop
def train_step_tf(model_fn, variables, x, y, optimizer):
    """One step on the mean squared error mean((model_fn(x) - y)**2)."""
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
    optimizer.apply_gradients(zip(grads, variables))
    return loss


def fit_tf(model_fn, variables, x, y, optimizer, steps, lr_fn=None):
    """Run train_step_tf `steps` times on the full batch (x, y)."""
    losses = []
    for step in range(steps):
        if lr_fn is not None:
            optimizer.learning_rate = lr_fn(step)
        losses.append(train_step_tf(model_fn, variables, x, y, optimizer))
    return losses
