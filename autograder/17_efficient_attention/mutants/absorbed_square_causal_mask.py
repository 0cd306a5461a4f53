# mutant: absorbed_attention builds its causal mask as a square lower triangle, right only when T == S (prefill); a decode step against a longer cache is masked wrongly
# replaces: absorb_impl
# breaks: mla_absorbed
# replace:
    scores = scores.masked_fill(~causal_mask(T, S, x.device), float("-inf"))
# with:
    scores = scores.masked_fill(~torch.ones(T, S, dtype=torch.bool, device=x.device).tril(), float("-inf"))
