# alternative: the parallel form from prefix sums (cumsum of phi(k)^T v and of phi(k)) with einsum; the recurrent form with einsum per step
# replaces: linear_impl
def linear_attention_parallel(q, k, v):
    """Causal linear attention, parallel form, here as prefix sums over time."""
    fq, fk = elu_feature_map(q), elu_feature_map(k)
    S = torch.cumsum(torch.einsum("...tk,...tv->...tkv", fk, v), dim=-3)   # S_t for every t
    z = torch.cumsum(fk, dim=-2)
    num = torch.einsum("...tk,...tkv->...tv", fq, S)
    den = torch.einsum("...tk,...tk->...t", fq, z).unsqueeze(-1)
    return num / den


def linear_attention_recurrent(q, k, v):
    """Causal linear attention, recurrent form, one token at a time."""
    fq, fk = elu_feature_map(q), elu_feature_map(k)
    T = q.shape[-2]
    S = torch.zeros(q.shape[:-2] + (q.shape[-1], v.shape[-1]), dtype=q.dtype)
    z = torch.zeros(q.shape[:-2] + (q.shape[-1],), dtype=q.dtype)
    out = torch.empty(q.shape[:-1] + (v.shape[-1],), dtype=q.dtype)
    for t in range(T):
        S = S + torch.einsum("...k,...v->...kv", fk[..., t, :], v[..., t, :])
        z = z + fk[..., t, :]
        out[..., t, :] = torch.einsum("...k,...kv->...v", fq[..., t, :], S) / torch.einsum("...k,...k->...", fq[..., t, :], z)[..., None]
    return out
