# mutant: Swish applied to the up (V) branch instead of the gate (W) branch
# replaces: swiglu_impl
# breaks: swiglu
# replace:
        return self.w_down(F.silu(self.w_gate(x)) * self.w_up(x))
# with:
        return self.w_down(self.w_gate(x) * F.silu(self.w_up(x)))      # BUG: swish on the wrong branch
