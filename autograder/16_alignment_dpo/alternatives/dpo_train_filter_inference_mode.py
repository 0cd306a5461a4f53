# alternative: dpo_train with the optimizer over filter(requires_grad), the reference log-probs under torch.inference_mode, accuracy from a comparison count
# replaces: dpo_train_impl
def dpo_train(policy, reference, batch, beta=0.1, lr=1e-2, steps=30):
    """Full-batch DPO on `batch` for `steps` Adam steps on the policy's trainable (LoRA) parameters."""
    optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, policy.parameters()), lr=lr)
    with torch.inference_mode():
        ref = {which: response_logps(reference, batch, which) for which in ("chosen", "rejected")}
    ref = {which: value.clone() for which, value in ref.items()}      # ordinary tensors again
    losses, accuracies = [], []
    for step in range(steps):
        policy_chosen = response_logps(policy, batch, "chosen")
        policy_rejected = response_logps(policy, batch, "rejected")
        loss, chosen_rewards, rejected_rewards = dpo_loss(policy_chosen, policy_rejected, ref["chosen"],
                                                          ref["rejected"], beta)
        losses.append(float(loss.detach()))
        accuracies.append(int((chosen_rewards > rejected_rewards).sum()) / chosen_rewards.numel())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return {"loss": losses, "reward_accuracy": accuracies}
