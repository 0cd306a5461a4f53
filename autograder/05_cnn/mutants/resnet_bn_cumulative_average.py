# mutant: BatchNorm with momentum=None (cumulative average): eval right, running statistics after a training step wrong
# replaces: resnet_impl
# breaks: resnet_block
# loses: 0.5 the eval-mode outputs are right; only the train-mode check (half the part) sees the running statistics
# replace:
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
# with:
        self.bn1 = nn.BatchNorm2d(planes, momentum=None)                 # BUG: not the default 0.1
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes, momentum=None)
