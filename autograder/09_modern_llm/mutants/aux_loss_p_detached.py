# mutant: load_balancing_loss detaches P: the aux loss no longer trains the router
# replaces: moe_impl
# breaks: moe
# replace:
    P = probs.mean(dim=0)
# with:
    P = probs.mean(dim=0).detach()                                 # BUG: no gradient to the router
