# mutant: ReLU applied to F(x) before the addition (and again after it)
# replaces: resnet_impl
# breaks: resnet_block
# replace:
        out = self.bn2(self.conv2(out))
# with:
        out = F.relu(self.bn2(self.conv2(out)))
