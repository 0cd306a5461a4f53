# mutant: counts the prompt tokens too (the DPO loss is unchanged, the rewards move)
# replaces: sequence_logprobs_impl
# breaks: sequence_logprobs
# replace:
    counted = (positions[None, :] >= prompt_len[:, None]) & (attention_mask[:, 1:] != 0)
# with:
    counted = attention_mask[:, 1:] != 0                                   # prompt tokens counted too
