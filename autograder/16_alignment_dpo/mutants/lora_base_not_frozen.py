# mutant: forgets to freeze the base model: base weights train along with LoRA
# replaces: lora_impl
# breaks: dpo_training
# replace:
        for p in self.base.parameters():
            p.requires_grad_(False)
# with:

# replace:
    for p in policy.parameters():
        p.requires_grad_(False)
# with:
