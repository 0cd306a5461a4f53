# mutant: averages the response log-probs instead of summing them (length-normalised)
# replaces: sequence_logprobs_impl
# breaks: sequence_logprobs
# replace:
    return (token_logp * counted).sum(dim=-1)
# with:
    return (token_logp * counted).sum(dim=-1) / counted.sum(dim=-1).clamp(min=1)
