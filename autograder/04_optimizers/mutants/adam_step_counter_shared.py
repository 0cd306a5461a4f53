# mutant: Adam counts steps on the function, shared by every parameter, instead of in each state
# replaces: adam_impl
# breaks: adam
# replace:
    state["step"] += 1
    t = state["step"]
# with:
    adam_update.t = getattr(adam_update, "t", 0) + 1
    t = adam_update.t
