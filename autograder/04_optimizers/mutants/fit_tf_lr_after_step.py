# mutant: fit_tf sets the learning rate of step s after that step (one step late)
# replaces: tf_impl
# breaks: tf_training_loop
# replace:
        if lr_fn is not None:
            optimizer.learning_rate = lr_fn(step)
        losses.append(train_step_tf(model_fn, variables, x, y, optimizer))
# with:
        losses.append(train_step_tf(model_fn, variables, x, y, optimizer))
        if lr_fn is not None:
            optimizer.learning_rate = lr_fn(step)
