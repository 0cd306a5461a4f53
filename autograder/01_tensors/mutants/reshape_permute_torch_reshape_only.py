# mutant: reshape without permute: right shape, channels and pixels interleaved wrongly
# replaces: reshape_permute_torch_impl
# breaks: reshape_permute
# replace:
    return x.permute(0, 2, 3, 1).reshape(B, H * W, C)
# with:
    return x.reshape(B, H * W, C)
