# mutant: the MLP uses ReLU instead of the module's exact GELU
# replaces: block_impl
# breaks: decoder_block
# replace:
        return self.proj(self.act(self.fc(x)))
# with:
        return self.proj(F.relu(self.fc(x)))                    # BUG: ReLU, not GELU
