# mutant: counts the padded positions (ignores attention_mask)
# replaces: sequence_logprobs_impl
# breaks: sequence_logprobs
# replace:
    counted = (positions[None, :] >= prompt_len[:, None]) & (attention_mask[:, 1:] != 0)
# with:
    counted = positions[None, :] >= prompt_len[:, None]                    # padding counted
