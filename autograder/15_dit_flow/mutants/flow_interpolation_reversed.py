# mutant: x_t = t * x0 + (1 - t) * x1: the path runs from the data to the noise while the target says the opposite
# replaces: flow_impl
# breaks: rectified_flow
# replace:
    return (1 - t) * x0 + t * x1
# with:
    return t * x0 + (1 - t) * x1
