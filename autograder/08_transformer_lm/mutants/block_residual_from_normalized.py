# mutant: the residual adds the normalised input LN(x) instead of x
# replaces: block_impl
# breaks: decoder_block
# replace:
        x = x + self.attn(self.ln1(x), cache)
        return x + self.mlp(self.ln2(x))
# with:
        h = self.ln1(x)
        x = h + self.attn(h, cache)                     # BUG: residual from LN(x)
        h = self.ln2(x)
        return h + self.mlp(h)
