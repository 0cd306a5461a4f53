# alternative: LoRA forward with F.linear twice, merge/unmerge through .data and weight.add_
# replaces: lora_impl
# replace:
            out = out + self.scaling * ((x @ self.lora_A.T) @ self.lora_B.T)
# with:
            out = out + torch.nn.functional.linear(torch.nn.functional.linear(x, self.lora_A), self.lora_B) * self.scaling
# replace:
            with torch.no_grad():
                self.base.weight += self.delta_weight()
            self.merged = True
# with:
            self.base.weight.data.add_(self.scaling * (self.lora_B.data @ self.lora_A.data))
            self.merged = True
# replace:
            with torch.no_grad():
                self.base.weight -= self.delta_weight()
            self.merged = False
# with:
            self.base.weight.data.sub_(self.scaling * (self.lora_B.data @ self.lora_A.data))
            self.merged = False
