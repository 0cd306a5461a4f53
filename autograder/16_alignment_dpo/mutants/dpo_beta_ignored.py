# mutant: beta ignored: rewards and loss use the raw log-ratios
# replaces: dpo_loss_impl
# breaks: dpo_loss
def dpo_loss(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta):
    """The DPO loss and the implicit rewards of a batch of preference pairs.

    All four log-probability arguments are (B,) float tensors (sums over response tokens);
    beta is a positive float.
    returns (loss, chosen_rewards, rejected_rewards):
        chosen_rewards   = beta * (policy_chosen_logps - ref_chosen_logps)        (B,), detached
        rejected_rewards = beta * (policy_rejected_logps - ref_rejected_logps)    (B,), detached
        loss             = -mean(log sigmoid(chosen_rewards - rejected_rewards)), a 0-d tensor
                           that gradients flow through back to the policy log-probabilities;
                           finite for log-probability differences of any size.
    """
    chosen = policy_chosen_logps - ref_chosen_logps                  # beta ignored
    rejected = policy_rejected_logps - ref_rejected_logps
    loss = -F.logsigmoid(chosen - rejected).mean()
    return loss, chosen.detach(), rejected.detach()
