# mutant: train_mlp records the loss after the update instead of before it
# replaces: mlp_impl
# breaks: mlp_train
# loses: 0.3 the losses are reported one step late; the training itself is right
# replace:
        losses.append(loss)
# with:
        losses.append(cross_entropy(model.forward(X), y)[0])
