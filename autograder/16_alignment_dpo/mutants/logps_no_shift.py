# mutant: no label shift: scores token t with the logits of position t (the model sees the answer)
# replaces: sequence_logprobs_impl
# breaks: sequence_logprobs
# replace:
    """Sum of log pi(token_t | tokens_<t) over the RESPONSE tokens of each row.

    logits         : (B, T, V) float, the model's output for input_ids; logits[:, t] predicts token t+1
    input_ids      : (B, T) long, prompt + response, right-padded
    attention_mask : (B, T), 1 for real tokens and 0 for padding
    prompt_len     : (B,) long, the number of prompt tokens at the start of each row
    returns        : (B,) float tensor (gradients flow back to logits):
                     sum over t >= prompt_len[b] with attention_mask[b, t] == 1 of
                     log_softmax(logits[b, t - 1])[input_ids[b, t]]
    Vectorised over the batch (no Python loop over rows); inputs may be non-contiguous.
    """
    ### BEGIN SOLUTION
    logp = torch.log_softmax(logits[:, :-1], dim=-1)                        # (B, T-1, V)
    labels = input_ids[:, 1:]                                               # token t+1 for logits t
    token_logp = logp.gather(-1, labels.unsqueeze(-1)).squeeze(-1)          # (B, T-1)
    positions = torch.arange(1, input_ids.shape[1], device=input_ids.device)  # positions of labels
    counted = (positions[None, :] >= prompt_len[:, None]) & (attention_mask[:, 1:] != 0)
# with:
    logp = torch.log_softmax(logits, dim=-1)                                # (B, T, V), not shifted
    token_logp = logp.gather(-1, input_ids.unsqueeze(-1)).squeeze(-1)       # (B, T)
    positions = torch.arange(input_ids.shape[1], device=input_ids.device)
    counted = (positions[None, :] >= prompt_len[:, None]) & (attention_mask != 0)
