# mutant: GPT.forward applies the head without the final LayerNorm ln_f
# replaces: gpt_impl
# breaks: tiny_gpt
# replace:
        return self.head(self.ln_f(x))
# with:
        return self.head(x)                                     # BUG: ln_f skipped
