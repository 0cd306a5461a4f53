# alternative: ReLU as its own layer; the Functional layers made before they are wired; the subclass makes its norms first
# replaces: keras_impl
def mlp_param_count(n_in, hidden, n_out):
    sizes = [n_in] + list(hidden)
    dense = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    return dense + sum(2 * h for h in hidden) + sizes[-1] * n_out + n_out


def build_sequential(n_in, hidden, n_out, dropout=0.1):
    model = keras.Sequential()
    model.add(keras.Input(shape=(n_in,)))
    for h in hidden:
        model.add(layers.Dense(h))
        model.add(layers.ReLU())
        model.add(layers.LayerNormalization())
        model.add(layers.Dropout(dropout))
    model.add(layers.Dense(n_out))
    return model


def build_functional(n_in, hidden, n_out, dropout=0.1):
    denses = [layers.Dense(h, activation="relu") for h in hidden]
    norms = [layers.LayerNormalization() for _ in hidden]
    drops = [layers.Dropout(dropout) for _ in hidden]
    head = layers.Dense(n_out)
    inputs = keras.Input(shape=(n_in,))
    x = inputs
    for d, n, p in zip(denses, norms, drops):
        x = p(n(d(x)))
    return keras.Model(inputs=inputs, outputs=head(x))


class SubclassedMLP(keras.Model):
    def __init__(self, hidden, n_out, dropout=0.1):
        super().__init__()
        self.norms = [layers.LayerNormalization() for _ in hidden]
        self.denses = [layers.Dense(h, activation="relu") for h in hidden]
        self.drops = [layers.Dropout(dropout) for _ in hidden]
        self.head = layers.Dense(n_out)

    def call(self, x, training=False):
        for d, n, p in zip(self.denses, self.norms, self.drops):
            x = p(n(d(x)), training=training)
        return self.head(x)


def build_subclassed(n_in, hidden, n_out, dropout=0.1):
    model = SubclassedMLP(hidden, n_out, dropout)
    model.build((None, n_in))
    model(np.zeros((2, n_in), dtype="float32"))
    return model
