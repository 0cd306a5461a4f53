# mutant: targets are the inputs themselves (y = x, no shift by one)
# replaces: train_impl
# breaks: tiny_gpt
# replace:
    y = torch.stack([data[i + 1:i + block_size + 1] for i in starts])
# with:
    y = torch.stack([data[i:i + block_size] for i in starts])      # BUG: not shifted
