# mutant: merge adds the update into base.weight but never sets merged, so forward adds it a second time
# replaces: lora_impl
# breaks: lora
# replace:
                self.base.weight += self.delta_weight()
            self.merged = True
# with:
                self.base.weight += self.delta_weight()               # BUG: merged stays False
