# alternative: sequence_logprobs with F.cross_entropy(reduction="none") on the shifted tokens and torch.where masking
# replaces: sequence_logprobs_impl
# replace:
    logp = torch.log_softmax(logits[:, :-1], dim=-1)                        # (B, T-1, V)
    labels = input_ids[:, 1:]                                               # token t+1 for logits t
    token_logp = logp.gather(-1, labels.unsqueeze(-1)).squeeze(-1)          # (B, T-1)
    positions = torch.arange(1, input_ids.shape[1], device=input_ids.device)  # positions of labels
    counted = (positions[None, :] >= prompt_len[:, None]) & (attention_mask[:, 1:] != 0)
    return (token_logp * counted).sum(dim=-1)
# with:
    B, T, V = logits.shape
    nll = F.cross_entropy(logits[:, :-1].reshape(-1, V), input_ids[:, 1:].reshape(-1), reduction="none").view(B, T - 1)
    t = torch.arange(T, device=logits.device).expand(B, T)[:, 1:]
    keep = (t >= prompt_len.unsqueeze(1)) & attention_mask[:, 1:].bool()
    return torch.where(keep, -nll, torch.zeros_like(nll)).sum(-1)
