# mutant: SwiGLU detaches the gate branch: w_gate never receives a gradient
# replaces: swiglu_impl
# breaks: swiglu
# replace:
        return self.w_down(F.silu(self.w_gate(x)) * self.w_up(x))
# with:
        return self.w_down(F.silu(self.w_gate(x)).detach() * self.w_up(x))   # BUG: gate cut from the graph
