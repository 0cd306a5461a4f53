# mutant: the training loop never zeroes the gradients (they accumulate over steps)
# replaces: train_impl
# breaks: tiny_gpt
def get_batch(data, batch_size, block_size, generator=None):
    """Random windows of `data` (1-D long tensor): x, y of shape (batch_size, block_size),
    y = x shifted by one token. Start positions are drawn with torch.randint(..., generator=generator)."""
    starts = torch.randint(0, len(data) - block_size, (batch_size,), generator=generator)
    x = torch.stack([data[i:i + block_size] for i in starts])
    y = torch.stack([data[i + 1:i + block_size + 1] for i in starts])
    return x, y


def lm_loss(logits, targets):
    """Mean cross-entropy over all B*T positions. logits (B, T, V), targets (B, T) -> scalar tensor."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def train(model, data, steps, batch_size=16, lr=1e-2, generator=None):
    """AdamW on next-token prediction for `steps` steps; returns the list of per-step losses (floats)."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    losses = []
    for _ in range(steps):
        x, y = get_batch(data, batch_size, model.cfg.block_size, generator)
        loss = lm_loss(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
