# mutant: log(softmax(logits)) instead of log_softmax: softmax underflows to 0 for large logits and the log-probability becomes -inf
# replaces: sequence_logprobs_impl
# breaks: sequence_logprobs
# replace:
    logp = torch.log_softmax(logits[:, :-1], dim=-1)                        # (B, T-1, V)
# with:
    logp = torch.log(torch.softmax(logits[:, :-1], dim=-1))
