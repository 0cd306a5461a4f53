# alternative: dpo_train that logs accuracy with preference_accuracy, steps with zero_grad(set_to_none) first
# replaces: dpo_train_impl
# replace:
    params = [p for p in policy.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=lr)
    with torch.no_grad():
        ref_chosen = response_logps(reference, batch, "chosen")
        ref_rejected = response_logps(reference, batch, "rejected")
    history = {"loss": [], "reward_accuracy": []}
    for _ in range(steps):
        loss, chosen_rewards, rejected_rewards = dpo_loss(
            response_logps(policy, batch, "chosen"), response_logps(policy, batch, "rejected"),
            ref_chosen, ref_rejected, beta)
        history["loss"].append(loss.item())
        history["reward_accuracy"].append((chosen_rewards > rejected_rewards).float().mean().item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return history
# with:
    optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, policy.parameters()), lr=lr)
    with torch.no_grad():
        refs = {side: response_logps(reference, batch, side) for side in ("chosen", "rejected")}
    losses, accuracies = [], []
    for step in range(steps):
        optimizer.zero_grad(set_to_none=True)
        pol = {side: response_logps(policy, batch, side) for side in ("chosen", "rejected")}
        loss, rc, rr = dpo_loss(pol["chosen"], pol["rejected"], refs["chosen"], refs["rejected"], beta)
        losses.append(float(loss))
        accuracies.append(preference_accuracy(rc, rr))
        loss.backward()
        optimizer.step()
    return {"loss": losses, "reward_accuracy": accuracies}
