# mutant: Dense -> Dropout -> LayerNormalization (same parameter count, other model)
# replaces: keras_impl
# breaks: keras_models
# replace:
        stack += [layers.Dense(h, activation="relu"), layers.LayerNormalization(), layers.Dropout(dropout)]
# with:
        stack += [layers.Dense(h, activation="relu"), layers.Dropout(dropout), layers.LayerNormalization()]
