# mutant: dpo_loss returns the implicit rewards with their graph attached (the notebook's convention: logged rewards are detached)
# replaces: dpo_loss_impl
# breaks: dpo_loss
# replace:
    return loss, chosen.detach(), rejected.detach()
# with:
    return loss, chosen, rejected
