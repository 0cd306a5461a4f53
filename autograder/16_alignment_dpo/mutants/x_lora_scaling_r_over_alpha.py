# mutant: LoRA scaling r / alpha instead of alpha / r
# replaces: lora_impl
# breaks: dpo_training
# loses: 0.25 LoRALinear is a third of the part (its two checks weigh 5 of 18); the DPO run with it still learns
# replace:
        self.scaling = alpha / r
# with:
        self.scaling = r / alpha                                         # BUG: inverted
