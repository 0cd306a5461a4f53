# mutant: flow_matching_loss averages per sample and then over a kept batch axis: the loss comes back with shape (1,) instead of a 0-d tensor
# replaces: flow_impl
# breaks: rectified_flow
# replace:
    return ((v_pred - velocity_target(x0, x1)) ** 2).mean()
# with:
    return ((v_pred - velocity_target(x0, x1)) ** 2).flatten(1).mean(dim=1).mean(dim=0, keepdim=True)
