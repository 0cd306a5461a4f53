# mutant: logits are multiplied by the temperature instead of divided
# replaces: sampling_impl
# breaks: sampling
def sample_next(logits, temperature=1.0, top_k=None, generator=None):
    """One token id per row of logits (B, V) -> long tensor (B,).

    temperature == 0: greedy argmax. Otherwise sample from softmax(logits / temperature),
    restricted to the top_k largest logits of each row when top_k is given.
    """
    if temperature == 0:
        return torch.argmax(logits, dim=-1)
    z = logits * temperature                     # BUG: multiplied
    if top_k is not None:
        kth = torch.topk(z, top_k, dim=-1).values[..., -1:]
        z = z.masked_fill(z < kth, float("-inf"))
    probs = torch.softmax(z, dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)
