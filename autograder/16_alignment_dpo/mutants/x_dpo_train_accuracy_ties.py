# mutant: dpo_train's reward accuracy counts ties as wins (>=): 1.0 at step 0 where every reward is 0
# replaces: dpo_train_impl
# breaks: dpo_training
# loses: 0.1 only the logged accuracy is wrong (at step 0, where all rewards tie); the training itself is right
# replace:
        history["reward_accuracy"].append((chosen_rewards > rejected_rewards).float().mean().item())
# with:
        history["reward_accuracy"].append((chosen_rewards >= rejected_rewards).float().mean().item())   # BUG
