# mutant: warmup counts steps from 1 (base_lr * (step + 1) / W): every warmup lr one step early
# replaces: schedule_impl
# breaks: lr_schedule
def warmup_cosine_lr(step, base_lr, warmup_steps, total_steps, min_lr=0.0):
    """Learning rate for optimizer step `step` (0 for the first update), as a Python float."""
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps               # BUG: off by one
    if step >= total_steps:
        return float(min_lr)
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return min_lr + (base_lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))
