# mutant: route renormalises the top-k probabilities with a second softmax instead of dividing by their sum
# replaces: moe_impl
# breaks: moe
# replace:
    gates = top_p / top_p.sum(dim=-1, keepdim=True)
# with:
    gates = torch.softmax(top_p, dim=-1)                          # BUG: softmax of probabilities
