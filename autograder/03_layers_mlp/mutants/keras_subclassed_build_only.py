# mutant: build_subclassed calls model.build() instead of calling the model: count_params() is 0
# replaces: keras_impl
# breaks: keras_models
# replace:
    model(np.zeros((1, n_in), dtype="float32"))
# with:
    model.build((None, n_in))                          # BUG: Keras 3 creates no weights this way
