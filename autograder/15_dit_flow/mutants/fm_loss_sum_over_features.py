# mutant: flow_matching_loss sums the squared error over the features and averages over the batch only
# replaces: flow_impl
# breaks: rectified_flow
# replace:
    return ((v_pred - velocity_target(x0, x1)) ** 2).mean()
# with:
    return ((v_pred - velocity_target(x0, x1)) ** 2).flatten(1).sum(dim=1).mean()
