# mutant: hidden Dense layers without activation and no ReLU anywhere (a linear stack)
# replaces: keras_impl
# breaks: keras_models
# replace:
        stack += [layers.Dense(h, activation="relu"), layers.LayerNormalization(), layers.Dropout(dropout)]
# with:
        stack += [layers.Dense(h), layers.LayerNormalization(), layers.Dropout(dropout)]
