# mutant: DPO implicit rewards beta * (ref - policy) instead of beta * (policy - ref)
# replaces: dpo_loss_impl
# breaks: dpo_loss
# replace:
    chosen = beta * (policy_chosen_logps - ref_chosen_logps)
    rejected = beta * (policy_rejected_logps - ref_rejected_logps)
# with:
    chosen = beta * (ref_chosen_logps - policy_chosen_logps)        # BUG: sign
    rejected = beta * (ref_rejected_logps - policy_rejected_logps)
