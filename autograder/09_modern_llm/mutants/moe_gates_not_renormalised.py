# mutant: top-k gates are the raw softmax probabilities, not renormalised to sum 1
# replaces: moe_impl
# breaks: moe
def route(router_logits, k=2):
    """Top-k routing for router_logits (n_tokens, N).

    Returns (probs, gates, experts):
      probs   (n_tokens, N): softmax over all N experts;
      experts (n_tokens, k): long indices of the k most probable experts, most probable first;
      gates   (n_tokens, k): their probabilities renormalised to sum to 1 per token."""
    probs = torch.softmax(router_logits, dim=-1)
    top_p, experts = probs.topk(k, dim=-1)
    gates = top_p                            # BUG: not renormalised
    return probs, gates, experts


def load_balancing_loss(probs, experts, alpha=0.01):
    """alpha * N * sum_i f_i * P_i for probs (n_tokens, N) and chosen experts (n_tokens, k).

    f_i: fraction of the n_tokens * k assignments that went to expert i (counts, no gradient);
    P_i: mean router probability of expert i over the tokens (carries the gradient).
    Returns a scalar tensor (0-d)."""
    n_tokens, n_experts = probs.shape
    k = experts.shape[-1]
    counts = F.one_hot(experts.reshape(-1), n_experts).sum(dim=0).to(probs.dtype)
    f = counts / (n_tokens * k)
    P = probs.mean(dim=0)
    return alpha * n_experts * (f * P).sum()


class MoE(nn.Module):
    def __init__(self, d_model, d_hidden, n_experts=4, top_k=2, alpha=0.01):
        super().__init__()
        self.top_k, self.alpha = top_k, alpha
        self.router = nn.Linear(d_model, n_experts, bias=False)
        self.experts = nn.ModuleList([SwiGLU(d_model, d_hidden) for _ in range(n_experts)])
        self.shared_expert = SwiGLU(d_model, d_hidden)

    def forward(self, x):
        """x (..., d_model) -> (y, aux_loss): y = shared(x) + sum over the top-k experts of gate * expert(x),
        same shape as x; aux_loss = load_balancing_loss over all tokens of x (a 0-d tensor)."""
        h = x.reshape(-1, x.shape[-1])                           # (n_tokens, d_model)
        probs, gates, experts = route(self.router(h), self.top_k)
        y = self.shared_expert(h)
        for e, expert in enumerate(self.experts):
            token, slot = torch.where(experts == e)              # tokens that chose expert e, and in which slot
            if token.numel() == 0:
                continue
            y = y.index_add(0, token, gates[token, slot].unsqueeze(-1) * expert(h[token]))
        return y.reshape(x.shape), load_balancing_loss(probs, experts, self.alpha)
