# mutant: Swish applied to the up (V) branch instead of the gate (W) branch
# replaces: swiglu_impl
# breaks: swiglu
class SwiGLU(nn.Module):
    def __init__(self, d_model, d_hidden):
        super().__init__()
        self.w_gate = nn.Linear(d_model, d_hidden, bias=False)   # W  (Swish side)
        self.w_up = nn.Linear(d_model, d_hidden, bias=False)     # V  (linear side)
        self.w_down = nn.Linear(d_hidden, d_model, bias=False)   # W2

    def forward(self, x):
        """(Swish(x W) * (x V)) W2 for x of shape (..., d_model)."""
        return self.w_down(self.w_gate(x) * F.silu(self.w_up(x)))      # BUG: swish on the wrong branch
