# mutant: make_policy adapts the reference model itself instead of a deep copy: the reference gains LoRA layers and changes with the policy
# replaces: lora_impl
# breaks: dpo_training
# replace:
    policy = copy.deepcopy(reference)
# with:
    policy = reference
