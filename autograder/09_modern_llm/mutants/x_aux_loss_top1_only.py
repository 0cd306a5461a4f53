# mutant: load_balancing_loss counts only each token's top-1 expert (f over n_tokens, k ignored)
# replaces: moe_impl
# breaks: moe
# replace:
    counts = F.one_hot(experts.reshape(-1), n_experts).sum(dim=0).to(probs.dtype)
    f = counts / (n_tokens * k)
# with:
    counts = F.one_hot(experts[:, 0], n_experts).sum(dim=0).to(probs.dtype)
    f = counts / n_tokens                                            # BUG: only the first choice counted
