# mutant: wrong axis: tf.gather along the time axis instead of the sample axis
# replaces: indexing_tf_impl
# breaks: indexing
def pick_last_step_tf(x, idx):
    """out[i, j] = x[idx[i], -1, 2*j]; x: (N, T, D) tf.Tensor, idx: (K,) int32 tf.Tensor."""
    return tf.gather(x, idx, axis=1)[:, -1, ::2]
