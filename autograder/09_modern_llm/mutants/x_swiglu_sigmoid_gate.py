# mutant: SwiGLU gated with sigmoid (plain GLU) instead of Swish/SiLU
# replaces: swiglu_impl
# breaks: swiglu
# replace:
        return self.w_down(F.silu(self.w_gate(x)) * self.w_up(x))
# with:
        return self.w_down(torch.sigmoid(self.w_gate(x)) * self.w_up(x))   # BUG: GLU, not SwiGLU
