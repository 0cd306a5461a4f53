# mutant: preference_accuracy counts ties as wins (>= instead of >)
# replaces: reward_model_impl
# breaks: reward_model
# replace:
    return (r_chosen > r_rejected).float().mean().item()
# with:
    return (r_chosen >= r_rejected).float().mean().item()
