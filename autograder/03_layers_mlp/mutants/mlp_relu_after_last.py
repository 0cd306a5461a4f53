# mutant: the MLP puts a ReLU after the last Linear too (the logits can no longer be negative)
# replaces: mlp_impl
# breaks: mlp_train
# replace:
            if i < len(sizes) - 2:
                self.layers.append(ReLU())
# with:
            self.layers.append(ReLU())
