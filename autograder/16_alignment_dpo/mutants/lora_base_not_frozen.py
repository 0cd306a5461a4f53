# mutant: forgets to freeze the base model: base weights train along with LoRA
# replaces: lora_impl
# breaks: dpo_training
# loses: 0.4 the run still learns; LoRA init, forward/backward, make_policy and only-LoRA checks fail, 9 of 18
# replace:
        for p in self.base.parameters():
            p.requires_grad_(False)
# with:

# replace:
    for p in policy.parameters():
        p.requires_grad_(False)
# with:
