# mutant: the subclassed model applies Dropout before LayerNormalization in call (same layers, same count)
# replaces: keras_impl
# breaks: keras_models
# replace:
        for layer in self.blocks:
            x = layer(x, training=training)
        return self.head(x)
# with:
        for i in range(0, len(self.blocks), 3):
            dense, norm, drop = self.blocks[i:i + 3]
            x = norm(drop(dense(x), training=training))
        return self.head(x)
