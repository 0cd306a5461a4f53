# alternative: MoE computing every expert on every token and combining with a scattered gate matrix; route via log-softmax
# replaces: moe_impl
def route(router_logits, k=2):
    probs = torch.log_softmax(router_logits, dim=-1).exp()
    gates, experts = torch.topk(probs, k, dim=-1, sorted=True)
    return probs, gates / gates.sum(-1, keepdim=True), experts


def load_balancing_loss(probs, experts, alpha=0.01):
    n_tokens, n_experts = probs.shape
    chosen = torch.zeros_like(probs).scatter_add_(1, experts, torch.ones_like(experts, dtype=probs.dtype))
    f = chosen.sum(0) / experts.numel()
    return alpha * n_experts * torch.dot(f, probs.mean(0))


class MoE(nn.Module):
    def __init__(self, d_model, d_hidden, n_experts=4, top_k=2, alpha=0.01):
        super().__init__()
        self.top_k, self.alpha = top_k, alpha
        self.router = nn.Linear(d_model, n_experts, bias=False)
        self.experts = nn.ModuleList([SwiGLU(d_model, d_hidden) for _ in range(n_experts)])
        self.shared_expert = SwiGLU(d_model, d_hidden)

    def forward(self, x):
        h = x.reshape(-1, x.shape[-1])
        probs, gates, experts = route(self.router(h), self.top_k)
        weight = torch.zeros_like(probs).scatter(1, experts, gates)          # (n_tokens, N), 0 off the top-k
        every = torch.stack([expert(h) for expert in self.experts], dim=1)   # (n_tokens, N, d_model)
        y = self.shared_expert(h) + torch.einsum("te,ted->td", weight, every)
        return y.reshape(x.shape), load_balancing_loss(probs, experts, self.alpha)
