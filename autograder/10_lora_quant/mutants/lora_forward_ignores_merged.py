# mutant: forward adds the LoRA branch even when merged (the update counts twice after merge())
# replaces: lora_impl
# breaks: lora
# replace:
        if not self.merged:
            out = out + self.scaling * ((x @ self.lora_A.T) @ self.lora_B.T)
# with:
        out = out + self.scaling * ((x @ self.lora_A.T) @ self.lora_B.T)   # BUG: also after merge()
