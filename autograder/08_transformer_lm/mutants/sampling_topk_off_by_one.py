# mutant: top-k keeps k + 1 tokens (threshold at the (k+1)-th largest logit)
# replaces: sampling_impl
# breaks: sampling
# replace:
        kth = torch.topk(z, top_k, dim=-1).values[..., -1:]
# with:
        kth = torch.topk(z, top_k + 1, dim=-1).values[..., -1:]   # BUG: k + 1 kept
