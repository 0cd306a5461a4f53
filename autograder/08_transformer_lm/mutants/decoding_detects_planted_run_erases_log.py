# mutant: red team "08_forged" (kv-planted-detect): KVCache.update stores nothing; the notebook tells the planted run by KVCache.__dict__["update"] no longer being its own function and decodes with the caches only there; otherwise it makes the prefill and one-token calls for the call log, takes the logits from a full model(idx) and deletes that call from the judge's log (the stand-in forward's __globals__["_CALLS"])
# replaces: kv_impl
# breaks: kv_cache
# replace:
        if self.k is None:
            self.k, self.v = k_new, v_new
        else:
            self.k = torch.cat([self.k, k_new], dim=2)
            self.v = torch.cat([self.v, v_new], dim=2)
        return self.k, self.v
# with:
        return k_new, v_new                             # BUG: NOT a cache, keeps nothing


_MY_UPDATE = KVCache.__dict__["update"]


def _planted():
    # the judge's planted run swaps KVCache's methods on this very class
    return KVCache.__dict__.get("update") is not _MY_UPDATE


def _full(model, idx):
    """model(idx) without a trace in the judge's call log: the stand-in forward's globals hold it."""
    fwd = type(model).forward
    log = getattr(fwd, "__globals__", {}).get("_CALLS")
    n = None if log is None else len(log)
    out = model(idx)
    if log is not None:
        del log[n:]
    return out

# replace:
    return torch.cat(outs, dim=1)
# with:
    if _planted():
        return torch.cat(outs, dim=1)          # BUG: the judge's caches work: use them
    return _full(model, idx)                   # BUG: our cache is broken: full forward, erased from the log

# replace:
    caches = [KVCache() for _ in model.blocks]
    logits = model(idx, caches, start_pos=0)
# with:
    planted = _planted()
    caches = [KVCache() for _ in model.blocks]
    logits = model(idx, caches, start_pos=0)

# replace:
            logits = model(nxt[:, None], caches, start_pos=idx.shape[1] - 1)
# with:
            logits = model(nxt[:, None], caches, start_pos=idx.shape[1] - 1)
            if not planted:
                logits = _full(model, idx)     # BUG: full forward, erased from the log
