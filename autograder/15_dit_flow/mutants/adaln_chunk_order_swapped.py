# mutant: the six modulation chunks are unpacked as (scale, shift, ...) instead of (shift, scale, ...): still the identity at init, wrong once trained
# replaces: adaln_impl
# breaks: adaln_zero
# loses: 0.15 at init every chunk is zero, so only the check of a block with trained weights (1 of 6) can see the swap
# replace:
        shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp = self.adaLN_modulation(c).chunk(6, dim=-1)
# with:
        scale_msa, shift_msa, gate_msa, scale_mlp, shift_mlp, gate_mlp = self.adaLN_modulation(c).chunk(6, dim=-1)
