# mutant: train_mlp records the loss after the update instead of before it
# replaces: mlp_impl
# breaks: mlp_train
# replace:
        losses.append(loss)
# with:
        losses.append(cross_entropy(model.forward(X), y)[0])
