# mutant: route subtracts the row maximum from the caller's router logits in place (for stability), changing its input
# replaces: moe_impl
# breaks: moe
# loses: 0.15 only the "input unchanged" property of route breaks: its values, and the MoE layer built on it, are right
# replace:
    probs = torch.softmax(router_logits, dim=-1)
# with:
    probs = torch.softmax(router_logits.sub_(router_logits.max(dim=-1, keepdim=True).values), dim=-1)   # BUG: in place
