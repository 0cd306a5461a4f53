# mutant: visits the nodes in topological order instead of reversed
# replaces: backward_impl
# breaks: backward
# replace:
    for node in reversed(topo):
# with:
    for node in topo:                  # BUG: forgot reversed()
