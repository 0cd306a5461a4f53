# mutant: the reference is in the optimizer and computed with gradients: it is trained
# replaces: dpo_train_impl
# breaks: dpo_training
# loses: 0.2 the run still learns; the frozen-reference check (weight 4 of 18) sees the reference move
# replace:
    params = [p for p in policy.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=lr)
    with torch.no_grad():
# with:
    params = [p for p in policy.parameters() if p.requires_grad] + list(reference.parameters())
    optimizer = torch.optim.Adam(params, lr=lr)              # the reference is trained too
    history = {"loss": [], "reward_accuracy": []}
    for _ in range(steps):

# replace:
    history = {"loss": [], "reward_accuracy": []}
    for _ in range(steps):
# with:
