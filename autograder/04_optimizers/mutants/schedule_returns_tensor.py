# mutant: the cosine part is computed with torch and returned as a 0-d tensor, not a Python float
# replaces: schedule_impl
# breaks: lr_schedule
# replace:
    return min_lr + (base_lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))
# with:
    return min_lr + (base_lr - min_lr) * 0.5 * (1.0 + torch.cos(torch.tensor(math.pi * progress)))
