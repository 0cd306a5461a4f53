# mutant: unmerge() subtracts the update even when the layer was never merged
# replaces: lora_impl
# breaks: lora
# loses: 0.2 one branch of unmerge() (the docstring's "does nothing when not merged"): one check of weight 2 in 10
# replace:
        if self.merged:
            with torch.no_grad():
                self.base.weight -= self.delta_weight()
            self.merged = False
# with:
        with torch.no_grad():
            self.base.weight -= self.delta_weight()                         # BUG: no merged check
        self.merged = False
