# alternative: get_batch with one gather of start + arange offsets, lm_loss with log_softmax and gather, zero_grad(set_to_none) before the forward pass
# replaces: train_impl
def get_batch(data, batch_size, block_size, generator=None):
    """Random windows of `data`: x, y of shape (batch_size, block_size), y = x shifted by one token."""
    starts = torch.randint(0, len(data) - block_size, (batch_size,), generator=generator)
    offsets = starts[:, None] + torch.arange(block_size)[None, :]
    return data[offsets], data[offsets + 1]


def lm_loss(logits, targets):
    """Mean cross-entropy over all B*T positions. logits (B, T, V), targets (B, T) -> scalar tensor."""
    logp = torch.log_softmax(logits, dim=-1)
    return -logp.gather(-1, targets[..., None]).squeeze(-1).mean()


def train(model, data, steps, batch_size=16, lr=1e-2, generator=None):
    """AdamW on next-token prediction for `steps` steps; returns the list of per-step losses (floats)."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    losses = []
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        x, y = get_batch(data, batch_size, model.cfg.block_size, generator)
        loss = lm_loss(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    return losses
