# alternative: patchify with Tensor.unfold along T, H, W; unpatchify by writing each token's patch into a new tensor in a loop (autograd tracks the slice copies)
# replaces: patchify_impl
def patchify(x, patch_size):
    """(B, C, T, H, W) -> (B, N, C * pt * ph * pw), tokens in (t, h, w) raster order."""
    B, C, T, H, W = x.shape
    pt, ph, pw = patch_size
    if T % pt or H % ph or W % pw:
        raise ValueError(f"video size (T, H, W) = {(T, H, W)} is not divisible by patch size {tuple(patch_size)}")
    nt, nh, nw = T // pt, H // ph, W // pw
    patches = x.unfold(2, pt, pt).unfold(3, ph, ph).unfold(4, pw, pw)     # (B, C, nt, nh, nw, pt, ph, pw)
    patches = patches.permute(0, 2, 3, 4, 1, 5, 6, 7)                    # (B, nt, nh, nw, C, pt, ph, pw)
    return patches.reshape(B, nt * nh * nw, C * pt * ph * pw)


def unpatchify(tokens, patch_size, size):
    """The inverse of patchify: (B, N, C * pt * ph * pw) tokens -> (B, C, T, H, W), size = (T, H, W)."""
    B, N, D = tokens.shape
    pt, ph, pw = patch_size
    T, H, W = size
    if T % pt or H % ph or W % pw:
        raise ValueError(f"video size (T, H, W) = {(T, H, W)} is not divisible by patch size {tuple(patch_size)}")
    nt, nh, nw = T // pt, H // ph, W // pw
    if N != nt * nh * nw or D % (pt * ph * pw):
        raise ValueError(f"tokens of shape {tuple(tokens.shape)} do not fit size {(T, H, W)} and patch size "
                         f"{tuple(patch_size)}: expected N = {nt * nh * nw} and D a multiple of {pt * ph * pw}")
    C = D // (pt * ph * pw)
    out = tokens.new_zeros(B, C, T, H, W)
    for n in range(N):
        it, rest = divmod(n, nh * nw)
        ih, iw = divmod(rest, nw)
        out[:, :, it * pt:(it + 1) * pt, ih * ph:(ih + 1) * ph, iw * pw:(iw + 1) * pw] = \
            tokens[:, n].reshape(B, C, pt, ph, pw)
    return out
