# mutant: MoE weights every chosen expert's output with the top-1 gate (slot 0), whatever slot chose it
# replaces: moe_impl
# breaks: moe
# replace:
            y = y.index_add(0, token, gates[token, slot].unsqueeze(-1) * expert(h[token]))
# with:
            y = y.index_add(0, token, gates[token, 0].unsqueeze(-1) * expert(h[token]))   # BUG: always slot 0
