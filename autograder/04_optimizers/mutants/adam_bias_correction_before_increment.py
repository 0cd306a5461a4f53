# mutant: Adam's bias correction uses the step count before it is incremented (t - 1)
# replaces: adam_impl
# breaks: adam
# replace:
    state["step"] += 1
    t = state["step"]
# with:
    t = state["step"]                                # BUG: 0 on the first call
    state["step"] += 1
