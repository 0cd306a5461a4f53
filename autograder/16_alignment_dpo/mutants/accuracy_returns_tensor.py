# mutant: preference_accuracy returns a 0-d tensor instead of a Python float (.item() missing)
# replaces: reward_model_impl
# breaks: reward_model
# replace:
    return (r_chosen > r_rejected).float().mean().item()
# with:
    return (r_chosen > r_rejected).float().mean()
