# alternative: sequence log-probs as minus the per-token cross-entropy, masked with torch.where; prompt mask from a comparison of broadcast positions
# replaces: sequence_logprobs_impl
def sequence_logprobs(logits, input_ids, attention_mask, prompt_len):
    """Sum of log pi(token_t | tokens_<t) over the RESPONSE tokens of each row."""
    B, T, V = logits.shape
    nll = F.cross_entropy(logits[:, :-1].reshape(-1, V), input_ids[:, 1:].reshape(-1), reduction="none")
    token_logp = -nll.view(B, T - 1)
    t = torch.arange(T, device=logits.device).expand(B, T)[:, 1:]
    keep = (t >= prompt_len.view(B, 1)) & attention_mask[:, 1:].bool()
    return torch.where(keep, token_logp, torch.zeros_like(token_logp)).sum(1)
