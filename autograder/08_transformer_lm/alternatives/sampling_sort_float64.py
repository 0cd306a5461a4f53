# alternative: sample_next in float64 with a sort-based top-k and an explicit normalisation
# replaces: sampling_impl
def sample_next(logits, temperature=1.0, top_k=None, generator=None):
    """One token id per row of logits (B, V) -> long tensor (B,)."""
    if temperature == 0:
        return logits.argmax(dim=-1)
    z = logits.double() / temperature
    if top_k is not None:
        sorted_z, _ = torch.sort(z, dim=-1, descending=True)
        z = torch.where(z >= sorted_z[..., top_k - 1:top_k], z, torch.full_like(z, -math.inf))
    e = torch.exp(z - z.amax(dim=-1, keepdim=True))
    return torch.multinomial(e / e.sum(dim=-1, keepdim=True), 1, generator=generator)[:, 0]
