# mutant: wrong axis: tf.gather along the time axis instead of the sample axis
# replaces: indexing_tf_impl
# breaks: indexing
# replace:
    return tf.gather(x, idx, axis=0)[:, -1, ::2]
# with:
    return tf.gather(x, idx, axis=1)[:, -1, ::2]
