# mutant: the tape never watches the tf.constant x, so tape.gradient returns None
# replaces: gradient_tape_tf_impl
# breaks: gradient_tape_tf
# replace:
        tape.watch(x)
# with:
