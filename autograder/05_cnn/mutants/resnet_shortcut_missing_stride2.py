# mutant: projection shortcut only when the channel counts differ (none for stride 2 with equal channels)
# replaces: resnet_impl
# breaks: resnet_block
# replace:
        if stride != 1 or in_planes != planes:
# with:
        if in_planes != planes:
