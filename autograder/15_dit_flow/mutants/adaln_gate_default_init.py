# mutant: the modulation Linear keeps PyTorch's default init: gates are not zero, the block is not the identity at init
# replaces: adaln_impl
# breaks: adaln_zero
# replace:
        nn.init.zeros_(self.adaLN_modulation[1].weight)
        nn.init.zeros_(self.adaLN_modulation[1].bias)
# with:
