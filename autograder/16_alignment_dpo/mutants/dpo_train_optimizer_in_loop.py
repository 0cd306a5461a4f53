# mutant: dpo_train builds a new Adam optimizer at every step: its moment estimates restart at zero each time
# replaces: dpo_train_impl
# breaks: dpo_training
# loses: 0.05 the run still learns; only the run-contract check (one optimizer, weight 1 of 18) can see it
# replace:
        optimizer.zero_grad()
# with:
        optimizer = torch.optim.Adam(params, lr=lr)
        optimizer.zero_grad()
