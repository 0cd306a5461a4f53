# mutant: lr_fn(step + 1): the schedule one step ahead
# replaces: tf_impl
# breaks: tf_training_loop
# replace:
            optimizer.learning_rate = lr_fn(step)
# with:
            optimizer.learning_rate = lr_fn(step + 1)
