# mutant: torch.multinomial without the generator (draws not reproducible from the seed)
# replaces: sampling_impl
# breaks: sampling
# replace:
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)
# with:
    return torch.multinomial(probs, 1).squeeze(-1)              # BUG: generator ignored
