# mutant: zero-initialises the modulation weight but not its bias: gate = bias != 0 at init
# replaces: adaln_impl
# breaks: adaln_zero
# replace:
        nn.init.zeros_(self.adaLN_modulation[1].bias)
# with:
