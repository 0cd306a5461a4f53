# mutant: ReLU applied to F(x) before the addition (and again after it)
# replaces: resnet_impl
# breaks: resnet_block
class BasicBlock(nn.Module):
    """ResNet basic block: conv3x3(stride)-BN-ReLU-conv3x3-BN, plus the shortcut, then ReLU.

    shortcut: identity (an empty nn.Sequential()) when stride == 1 and in_planes == planes,
    otherwise a projection nn.Sequential(Conv2d 1x1 with the same stride, bias=False; BatchNorm2d).
    Attribute names: conv1, bn1, conv2, bn2, shortcut (they define the state_dict keys).
    """
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride, bias=False),
                nn.BatchNorm2d(planes),
            )

    def forward(self, x):
        """x: (N, in_planes, H, W) -> (N, planes, H_out, W_out)."""
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = out + self.shortcut(x)          # H(x) = F(x) + shortcut(x)
        return F.relu(out)
