# mutant: LoRA scaling r / alpha instead of alpha / r
# replaces: lora_impl
# breaks: dpo_training
# loses: 0.1 LoRALinear is one of the part's three pieces (its two checks weigh 2 of 14); the DPO run with it still learns
# replace:
        self.scaling = alpha / r
# with:
        self.scaling = r / alpha                                         # BUG: inverted
