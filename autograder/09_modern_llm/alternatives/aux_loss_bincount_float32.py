# alternative: f_i counted with torch.bincount / (T * k), as the prose suggests (float32 counts)
# replaces: moe_impl
# replace:
    counts = F.one_hot(experts.reshape(-1), n_experts).sum(dim=0).to(probs.dtype)
    f = counts / (n_tokens * k)
# with:
    f = torch.bincount(experts.flatten(), minlength=n_experts) / (n_tokens * k)     # float32 ratios
