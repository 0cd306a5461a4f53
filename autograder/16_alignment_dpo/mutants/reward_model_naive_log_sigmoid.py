# mutant: log(sigmoid(d)) computed naively: -inf / nan for large score differences
# replaces: reward_model_impl
# breaks: reward_model
# replace:
    return -F.logsigmoid(r_chosen - r_rejected).mean()
# with:
    return -torch.log(torch.sigmoid(r_chosen - r_rejected)).mean()
