# mutant: scaling = alpha instead of alpha / r
# replaces: lora_impl
# breaks: lora
# replace:
        self.scaling = alpha / r
# with:
        self.scaling = alpha                      # BUG: not divided by r
