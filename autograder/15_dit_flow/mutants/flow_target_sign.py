# mutant: velocity target x0 - x1 (the sign of the convention x_t = (1-t) x0 + t x1 flipped)
# replaces: flow_impl
# breaks: rectified_flow
# replace:
    return x1 - x0
# with:
    return x0 - x1
