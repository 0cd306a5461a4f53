# mutant: the projection shortcut is a 1x1 conv without its BatchNorm
# replaces: resnet_impl
# breaks: resnet_block
# replace:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride, bias=False),
                nn.BatchNorm2d(planes),
            )
# with:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride, bias=False),   # BUG: no BatchNorm2d
            )
