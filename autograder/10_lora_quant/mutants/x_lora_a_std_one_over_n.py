# mutant: lora_A drawn with std 1/in_features (variance 1/n^2) instead of variance 1/in_features
# replaces: lora_impl
# breaks: lora
# loses: 0.1 a wrong init scale only slows training: the layer computes, merges and unmerges correctly
# replace:
        self.lora_A = nn.Parameter(torch.randn(r, base.in_features, dtype=w.dtype, device=w.device)
                                   / math.sqrt(base.in_features))
# with:
        self.lora_A = nn.Parameter(torch.randn(r, base.in_features, dtype=w.dtype, device=w.device)
                                   / base.in_features)                   # BUG: std 1/n
