# mutant: the Bradley-Terry loss sums over the batch instead of averaging
# replaces: reward_model_impl
# breaks: reward_model
# replace:
    return -F.logsigmoid(r_chosen - r_rejected).mean()
# with:
    return -F.logsigmoid(r_chosen - r_rejected).sum()
