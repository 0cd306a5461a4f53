# mutant: flow_matching_loss detaches the model's prediction: the loss value is right but the model gets no gradient
# replaces: flow_impl
# breaks: rectified_flow
# replace:
    v_pred = model(x_t, t)
# with:
    v_pred = model(x_t, t).detach()
