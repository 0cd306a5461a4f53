# mutant: the AdamW optimizer is rebuilt at every step (its moment estimates restart each time)
# replaces: train_impl
# breaks: tiny_gpt
# replace:
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    losses = []
    for _ in range(steps):
# with:
    model.train()
    losses = []
    for _ in range(steps):
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr)   # BUG: a new optimizer each step
