# mutant: sequence_logprobs compares the LOGIT positions (0..T-2) with prompt_len instead of the label positions (1..T-1)
# replaces: sequence_logprobs_impl
# breaks: sequence_logprobs
# replace:
    positions = torch.arange(1, input_ids.shape[1], device=input_ids.device)  # positions of labels
# with:
    positions = torch.arange(0, input_ids.shape[1] - 1, device=input_ids.device)  # BUG: first response token dropped
