# mutant: stride=None means stride 1 instead of stride = kernel_size
# replaces: maxpool_impl
# breaks: maxpool
# replace:
    sh, sw = pair(kernel_size if stride is None else stride)
# with:
    sh, sw = pair(1 if stride is None else stride)                 # BUG: default stride 1
