# mutant: the DPO loss sums over the pairs instead of averaging
# replaces: dpo_loss_impl
# breaks: dpo_loss
# replace:
    loss = -F.logsigmoid(chosen - rejected).mean()
# with:
    loss = -F.logsigmoid(chosen - rejected).sum()
