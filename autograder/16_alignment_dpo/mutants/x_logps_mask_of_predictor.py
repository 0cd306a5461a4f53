# mutant: sequence_logprobs masks with attention_mask[:, :-1] (the predicting position) instead of [:, 1:]
# replaces: sequence_logprobs_impl
# breaks: sequence_logprobs
# replace:
    counted = (positions[None, :] >= prompt_len[:, None]) & (attention_mask[:, 1:] != 0)
# with:
    counted = (positions[None, :] >= prompt_len[:, None]) & (attention_mask[:, :-1] != 0)   # BUG: first pad counted
