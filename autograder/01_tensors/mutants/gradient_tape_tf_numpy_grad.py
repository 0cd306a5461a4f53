# mutant: value_and_grad_tf hands back the gradient as a NumPy array (grad.numpy()), not a tf.Tensor
# replaces: gradient_tape_tf_impl
# breaks: gradient_tape_tf
# replace:
    return value, grad
# with:
    return value, grad.numpy()
