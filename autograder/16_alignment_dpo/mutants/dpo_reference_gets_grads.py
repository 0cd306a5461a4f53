# mutant: reference log-probs computed with autograd on: the reference receives gradients (not updated)
# replaces: dpo_train_impl
# breaks: dpo_training
def dpo_train(policy, reference, batch, beta=0.1, lr=1e-2, steps=30):
    """Full-batch DPO on `batch` (a collate() dict) for `steps` Adam steps on the policy's
    trainable (LoRA) parameters. The reference log-probabilities are computed once, under
    torch.no_grad(); the reference is never updated and never receives gradients.
    Returns {"loss": [...], "reward_accuracy": [...]}: Python floats, one per step, measured
    before that step's update (so loss[0] is ln 2 when the policy starts equal to the reference).
    Uses response_logps (given) and your dpo_loss."""
    params = [p for p in policy.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=lr)
    history = {"loss": [], "reward_accuracy": []}
    for _ in range(steps):
        ref_chosen = response_logps(reference, batch, "chosen")      # no torch.no_grad()
        ref_rejected = response_logps(reference, batch, "rejected")
        loss, chosen_rewards, rejected_rewards = dpo_loss(
            response_logps(policy, batch, "chosen"), response_logps(policy, batch, "rejected"),
            ref_chosen, ref_rejected, beta)
        history["loss"].append(loss.item())
        history["reward_accuracy"].append((chosen_rewards > rejected_rewards).float().mean().item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return history
