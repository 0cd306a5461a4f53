# mutant: B initialised randomly instead of zero (the layer does not start equal to its base)
# replaces: lora_impl
# breaks: lora
# replace:
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r, dtype=w.dtype, device=w.device))
# with:
        self.lora_B = nn.Parameter(torch.randn(base.out_features, r, dtype=w.dtype, device=w.device) / math.sqrt(r))  # BUG
