# mutant: the training loop never zeroes the gradients (they accumulate over steps)
# replaces: train_impl
# breaks: tiny_gpt
# replace:
        optimizer.zero_grad()
# with:
