# mutant: beta ignored: rewards and loss use the raw log-ratios
# replaces: dpo_loss_impl
# breaks: dpo_loss
# replace:
    chosen = beta * (policy_chosen_logps - ref_chosen_logps)
    rejected = beta * (policy_rejected_logps - ref_rejected_logps)
# with:
    chosen = policy_chosen_logps - ref_chosen_logps                  # beta ignored
    rejected = policy_rejected_logps - ref_rejected_logps
