# mutant: positions always start at 0 (start_pos ignored in GPT.forward)
# replaces: gpt_impl
# breaks: tiny_gpt
class GPT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos_emb = nn.Embedding(cfg.block_size, cfg.d_model)
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layer)])
        self.ln_f = nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)

    def forward(self, idx, caches=None, start_pos=0):
        """Logits (B, T, vocab_size) for token ids idx (B, T).

        caches   : None, or a list with one KVCache per block (block i gets caches[i]).
        start_pos: position of idx[:, 0] in the sequence; the tokens sit at positions
                   start_pos, ..., start_pos + T - 1 (needed when earlier tokens are cached).
        """
        B, T = idx.shape
        if start_pos + T > self.cfg.block_size:
            raise ValueError(f"positions up to {start_pos + T - 1} but block_size is {self.cfg.block_size}")
        pos = torch.arange(T, device=idx.device)            # BUG: start_pos ignored
        x = self.tok_emb(idx) + self.pos_emb(pos)
        for i, block in enumerate(self.blocks):
            x = block(x, None if caches is None else caches[i])
        return self.head(self.ln_f(x))
