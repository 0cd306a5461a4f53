# alternative: f_i counted with scatter_add in float64, P_i by sum / n, all in one expression
# replaces: moe_impl
# replace:
    counts = F.one_hot(experts.reshape(-1), n_experts).sum(dim=0).to(probs.dtype)
    f = counts / (n_tokens * k)
    P = probs.mean(dim=0)
    return alpha * n_experts * (f * P).sum()
# with:
    flat = experts.reshape(-1)
    counts = torch.zeros(n_experts, dtype=torch.float64).scatter_add_(0, flat, torch.ones(flat.numel(), dtype=torch.float64))
    f = (counts / (n_tokens * k)).to(probs.dtype)
    P = probs.sum(dim=0) / n_tokens
    return (alpha * n_experts) * torch.dot(f, P)
