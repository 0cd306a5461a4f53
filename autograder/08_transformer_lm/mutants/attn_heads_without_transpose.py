# mutant: q, k, v reshaped straight to (B, H, T, d_head) without the transpose (heads mix tokens)
# replaces: block_impl
# breaks: decoder_block
# replace:
        q, k, v = split_heads(q, self.n_head), split_heads(k, self.n_head), split_heads(v, self.n_head)
# with:
        q, k, v = (t.reshape(B, self.n_head, T, C // self.n_head) for t in (q, k, v))   # BUG: no transpose
