# mutant: merge/unmerge add B @ A without the alpha / r scaling (invisible with B = 0)
# replaces: lora_impl
# breaks: lora
# replace:
        return self.scaling * (self.lora_B @ self.lora_A)
# with:
        return self.lora_B @ self.lora_A          # BUG: scaling forgotten
