# alternative: the KV cache keeps lists of chunks and concatenates on demand; generate and incremental_logits with explicit positions
# replaces: kv_impl
class KVCache:
    """Keys and values of ONE attention layer for every position seen so far: (B, H, S, d_head)."""

    def __init__(self):
        self.ks, self.vs = [], []
        self.k = None
        self.v = None

    @property
    def length(self):
        return sum(k.shape[2] for k in self.ks)

    def update(self, k_new, v_new):
        self.ks.append(k_new)
        self.vs.append(v_new)
        self.k, self.v = torch.cat(self.ks, dim=2), torch.cat(self.vs, dim=2)
        return self.k, self.v


@torch.no_grad()
def incremental_logits(model, idx, prompt_len):
    """Cached decoding with known tokens; returns the logits of every position, (B, T, V)."""
    model.eval()
    caches = [KVCache() for _ in range(len(model.blocks))]
    pieces = [model(idx[:, :prompt_len], caches, start_pos=0)]
    pos = prompt_len
    while pos < idx.shape[1]:
        pieces.append(model(idx[:, pos:pos + 1], caches, start_pos=pos))
        pos += 1
    return torch.cat(pieces, dim=1)


@torch.no_grad()
def generate(model, idx, n_new, temperature=0.0, top_k=None, generator=None):
    """Append n_new tokens to idx (B, T0) with sample_next and the KV caches."""
    model.eval()
    caches = [KVCache() for _ in range(len(model.blocks))]
    out = [idx]
    logits = model(idx, caches, start_pos=0)[:, -1]
    pos = idx.shape[1]
    for step in range(n_new):
        token = sample_next(logits, temperature, top_k, generator)[:, None]
        out.append(token)
        if step + 1 < n_new:
            logits = model(token, caches, start_pos=pos)[:, -1]
            pos += 1
    return torch.cat(out, dim=1)
