# mutant: reshape without permute: right shape, channels and pixels interleaved wrongly
# replaces: reshape_permute_torch_impl
# breaks: reshape_permute
def image_to_tokens_torch(x):
    """(B, C, H, W) torch.Tensor -> (B, H*W, C): out[b, h*W + w, c] = x[b, c, h, w]."""
    B, C, H, W = x.shape
    return x.reshape(B, H * W, C)
