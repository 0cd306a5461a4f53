# mutant: build_subclassed calls model.build() instead of calling the model: count_params() is 0
# replaces: keras_impl
# breaks: keras_models
def mlp_param_count(n_in, hidden, n_out):
    """Number of parameters of [Dense(h, relu) -> LayerNormalization -> Dropout] for h in hidden,
    then Dense(n_out), for inputs with n_in features (formula, no Keras)."""
    total, prev = 0, n_in
    for h in hidden:
        total += prev * h + h          # Dense
        total += 2 * h                 # LayerNormalization: gamma and beta
        prev = h                       # Dropout: no parameters
    return total + prev * n_out + n_out


def build_sequential(n_in, hidden, n_out, dropout=0.1):
    """The MLP above as a keras.Sequential, with its weights already built."""
    stack = [keras.Input(shape=(n_in,))]
    for h in hidden:
        stack += [layers.Dense(h, activation="relu"), layers.LayerNormalization(), layers.Dropout(dropout)]
    stack.append(layers.Dense(n_out))
    return keras.Sequential(stack)


def build_functional(n_in, hidden, n_out, dropout=0.1):
    """The MLP above with the Functional API: keras.Model(inputs, outputs)."""
    inputs = keras.Input(shape=(n_in,))
    x = inputs
    for h in hidden:
        x = layers.Dense(h, activation="relu")(x)
        x = layers.LayerNormalization()(x)
        x = layers.Dropout(dropout)(x)
    return keras.Model(inputs, layers.Dense(n_out)(x))


class SubclassedMLP(keras.Model):
    """The MLP above as a keras.Model subclass: layers made in __init__, applied in call."""

    def __init__(self, hidden, n_out, dropout=0.1):
        super().__init__()
        self.blocks = []
        for h in hidden:
            self.blocks += [layers.Dense(h, activation="relu"), layers.LayerNormalization(),
                            layers.Dropout(dropout)]
        self.head = layers.Dense(n_out)

    def call(self, x, training=False):
        for layer in self.blocks:
            x = layer(x, training=training)
        return self.head(x)


def build_subclassed(n_in, hidden, n_out, dropout=0.1):
    """A SubclassedMLP whose weights exist (count_params() works right away)."""
    model = SubclassedMLP(hidden, n_out, dropout)
    model.build((None, n_in))                          # BUG: Keras 3 creates no weights this way
    return model
