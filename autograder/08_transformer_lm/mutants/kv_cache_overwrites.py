# mutant: the cache keeps only the newest keys/values instead of appending them
# replaces: kv_impl
# breaks: kv_cache
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
        self.k, self.v = k_new, v_new                   # BUG: the past is forgotten
        return self.k, self.v


@torch.no_grad()
def incremental_logits(model, idx, prompt_len):
    """Cached decoding with known tokens: prefill idx[:, :prompt_len] in one call, then feed
    idx[:, t] for t = prompt_len .. T-1 ONE token per call with the caches. Returns the logits of
    every position, (B, T, V): equal to model(idx) up to rounding."""
    model.eval()
    caches = [KVCache() for _ in model.blocks]
    outs = [model(idx[:, :prompt_len], caches, start_pos=0)]
    for t in range(prompt_len, idx.shape[1]):
        outs.append(model(idx[:, t:t + 1], caches, start_pos=t))
    return torch.cat(outs, dim=1)


@torch.no_grad()
def generate(model, idx, n_new, temperature=0.0, top_k=None, generator=None):
    """Append n_new tokens to idx (B, T0) with sample_next, feeding ONE new token per step with
    the KV caches after a prefill of the prompt. Returns (B, T0 + n_new); T0 + n_new <= block_size."""
    model.eval()
    caches = [KVCache() for _ in model.blocks]
    logits = model(idx, caches, start_pos=0)
    for step in range(n_new):
        nxt = sample_next(logits[:, -1, :], temperature, top_k, generator)
        idx = torch.cat([idx, nxt[:, None]], dim=1)
        if step + 1 < n_new:
            logits = model(nxt[:, None], caches, start_pos=idx.shape[1] - 1)
    return idx
