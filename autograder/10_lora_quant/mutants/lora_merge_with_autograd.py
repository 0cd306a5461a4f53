# mutant: merge() updates base.weight outside torch.no_grad(): the frozen weight joins the graph
# replaces: lora_impl
# breaks: lora
# replace:
        if not self.merged:
            with torch.no_grad():
                self.base.weight += self.delta_weight()
            self.merged = True
# with:
        if not self.merged:
            self.base.weight = self.base.weight + self.delta_weight()     # BUG: a non-leaf that requires grad
            self.merged = True
