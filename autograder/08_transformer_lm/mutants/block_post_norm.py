# mutant: post-norm: the residual sum goes through the LayerNorm (LN(x + attn(x)))
# replaces: block_impl
# breaks: decoder_block
# replace:
        x = x + self.attn(self.ln1(x), cache)
        return x + self.mlp(self.ln2(x))
# with:
        x = self.ln1(x + self.attn(x, cache))          # BUG: post-norm
        return self.ln2(x + self.mlp(x))
