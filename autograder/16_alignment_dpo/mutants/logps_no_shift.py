# mutant: no label shift: scores token t with the logits of position t (the model sees the answer)
# replaces: sequence_logprobs_impl
# breaks: sequence_logprobs
def sequence_logprobs(logits, input_ids, attention_mask, prompt_len):
    """Sum of log pi(token_t | tokens_<t) over the RESPONSE tokens of each row."""
    logp = torch.log_softmax(logits, dim=-1)                                # (B, T, V), not shifted
    token_logp = logp.gather(-1, input_ids.unsqueeze(-1)).squeeze(-1)       # (B, T)
    positions = torch.arange(input_ids.shape[1], device=input_ids.device)
    counted = (positions[None, :] >= prompt_len[:, None]) & (attention_mask != 0)
    return (token_logp * counted).sum(dim=-1)
