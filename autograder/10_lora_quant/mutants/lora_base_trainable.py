# mutant: base weights left trainable (never frozen)
# replaces: lora_impl
# breaks: lora
# replace:
        for p in self.base.parameters():
            p.requires_grad_(False)
# with:
        # BUG: the base layer is not frozen
