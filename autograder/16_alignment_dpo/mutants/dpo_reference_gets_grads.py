# mutant: reference log-probs computed with autograd on: the reference receives gradients (not updated)
# replaces: dpo_train_impl
# breaks: dpo_training
# loses: 0.2 the run stays right; only the frozen-reference check (weight 4 of 18) sees the gradients
# replace:
    with torch.no_grad():
        ref_chosen = response_logps(reference, batch, "chosen")
        ref_rejected = response_logps(reference, batch, "rejected")
# with:

# replace:
    for _ in range(steps):
# with:
    for _ in range(steps):
        ref_chosen = response_logps(reference, batch, "chosen")      # no torch.no_grad()
        ref_rejected = response_logps(reference, batch, "rejected")
