# mutant: get_batch draws its start positions from the global RNG, not from the generator it is given
# replaces: train_impl
# breaks: tiny_gpt
# replace:
    starts = torch.randint(0, len(data) - block_size, (batch_size,), generator=generator)
# with:
    starts = torch.randint(0, len(data) - block_size, (batch_size,))    # BUG: generator ignored
