# mutant: positions always start at 0 (start_pos ignored in GPT.forward)
# replaces: gpt_impl
# breaks: tiny_gpt
# replace:
        pos = torch.arange(start_pos, start_pos + T, device=idx.device)
# with:
        pos = torch.arange(T, device=idx.device)            # BUG: start_pos ignored
