# alternative: the cache class taken through a module-level alias, start_pos read from the caches' length, and generate feeding the last sampled token too (one wasted call)
# replaces: kv_impl
class KVCache:
    """Keys and values of ONE attention layer for every position seen so far: (B, H, S, d_head)."""

    def __init__(self):
        self.k = None
        self.v = None

    @property
    def length(self):
        """The number of cached positions S."""
        return 0 if self.k is None else self.k.shape[2]

    def update(self, k_new, v_new):
        """Append k_new, v_new (B, H, n, d_head) after the cached positions; return (k_all, v_all)."""
        if self.k is None:
            self.k, self.v = k_new, v_new
        else:
            self.k = torch.cat((self.k, k_new), dim=-2)
            self.v = torch.cat((self.v, v_new), dim=-2)
        return self.k, self.v


CacheClass = KVCache


def _new_caches(model):
    return [CacheClass() for _ in range(len(model.blocks))]


@torch.no_grad()
def incremental_logits(model, idx, prompt_len):
    """Cached decoding with known tokens; returns the logits of every position, (B, T, V)."""
    model.eval()
    caches = _new_caches(model)
    out = model(idx[:, :prompt_len], caches)
    for t in range(prompt_len, idx.shape[1]):
        out = torch.cat([out, model(idx[:, t:t + 1], caches, start_pos=caches[0].length)], dim=1)
    return out


@torch.no_grad()
def generate(model, idx, n_new, temperature=0.0, top_k=None, generator=None):
    """Append n_new tokens to idx (B, T0) with sample_next and the KV caches."""
    model.eval()
    caches = _new_caches(model)
    logits = model(idx, caches)
    for _ in range(n_new):
        nxt = sample_next(logits[:, -1, :], temperature, top_k, generator).reshape(-1, 1)
        idx = torch.cat([idx, nxt.to(idx.dtype)], dim=1)
        logits = model(nxt, caches, start_pos=caches[0].length)   # also after the last token
    return idx
