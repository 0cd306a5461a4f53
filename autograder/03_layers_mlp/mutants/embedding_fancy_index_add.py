# mutant: dW[ids] += G with fancy indexing: a repeated id keeps only its last row of G
# replaces: embedding_impl
# breaks: embedding
class Embedding(Module):
    """Lookup table: forward(ids) = W[ids] for integer ids of any shape -> ids.shape + (dim,).

    params["W"]: (num_embeddings, dim).
    backward(G): grads["W"][k] = sum of G over every position whose id is k (zero rows for
                 ids that do not occur); returns None (no gradient for integer inputs).
    """

    def __init__(self, num_embeddings, dim, rng=None):
        super().__init__()
        rng = np.random.default_rng(0) if rng is None else rng
        self.params["W"] = rng.standard_normal((num_embeddings, dim))
        self.num_embeddings, self.dim = num_embeddings, dim

    def forward(self, ids):
        ids = np.asarray(ids)
        if ids.dtype.kind not in "iu":
            raise TypeError(f"Embedding expects integer ids, got dtype {ids.dtype}")
        self.ids = ids
        return self.params["W"][ids]

    def backward(self, grad_out):
        dW = np.zeros_like(self.params["W"])
        dW[self.ids] += np.asarray(grad_out, dtype=np.float64)   # BUG: buffered, repeated ids lost
        self.grads["W"] = dW
        return None
