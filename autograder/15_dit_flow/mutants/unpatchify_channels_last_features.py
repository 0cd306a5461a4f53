# mutant: unpatchify reads the in-token features as (pt, ph, pw, C) while patchify writes (C, pt, ph, pw): round trip fails
# replaces: patchify_impl
# breaks: patchify
def patchify(x, patch_size):
    """(B, C, T, H, W) -> (B, N, C * pt * ph * pw) with N = (T / pt) * (H / ph) * (W / pw).

    Token n = (i_t * n_h + i_h) * n_w + i_w holds patch (i_t, i_h, i_w) ((t, h, w) raster order,
    w fastest). Inside a token, value x[c, i_t*pt + a, i_h*ph + b, i_w*pw + d] sits at feature
    ((c * pt + a) * ph + b) * pw + d, the order in which Conv3d flattens its (C, pt, ph, pw) kernel.
    """
    B, C, T, H, W = x.shape
    pt, ph, pw = patch_size
    if T % pt or H % ph or W % pw:
        raise ValueError(f"video size (T, H, W) = {(T, H, W)} is not divisible by patch size {tuple(patch_size)}")
    nt, nh, nw = T // pt, H // ph, W // pw
    x = x.reshape(B, C, nt, pt, nh, ph, nw, pw)
    x = x.permute(0, 2, 4, 6, 1, 3, 5, 7)                  # (B, nt, nh, nw, C, pt, ph, pw)
    return x.reshape(B, nt * nh * nw, C * pt * ph * pw)


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
    x = tokens.reshape(B, nt, nh, nw, pt, ph, pw, C)   # BUG: channels last inside the token
    x = x.permute(0, 7, 1, 4, 2, 5, 3, 6)                  # (B, C, nt, pt, nh, ph, nw, pw)
    return x.reshape(B, C, T, H, W)
