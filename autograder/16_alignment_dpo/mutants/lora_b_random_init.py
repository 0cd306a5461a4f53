# mutant: lora_B initialised randomly: the policy does not start at the reference, loss[0] != ln 2
# replaces: lora_impl
# breaks: dpo_training
# loses: 0.25 the run still learns; the start value (2), LoRA init (2) and make_policy init (1) checks fail, 5 of 18
# replace:
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r, dtype=w.dtype, device=w.device))
# with:
        self.lora_B = nn.Parameter(torch.randn(base.out_features, r, dtype=w.dtype, device=w.device)
                                   / math.sqrt(r))
