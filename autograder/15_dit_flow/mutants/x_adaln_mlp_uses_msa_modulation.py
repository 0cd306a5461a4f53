# mutant: the MLP branch is modulated with the attention branch's shift and scale (copy-paste)
# replaces: adaln_impl
# breaks: adaln_zero
# loses: 0.15 only a block with trained (non-zero) modulation weights is wrong; at init (the part's heaviest property) it is right
# replace:
        x = x + gate_mlp.unsqueeze(1) * self.mlp(modulate(self.norm2(x), shift_mlp, scale_mlp))
# with:
        x = x + gate_mlp.unsqueeze(1) * self.mlp(modulate(self.norm2(x), shift_msa, scale_msa))   # BUG
