# mutant: merge_heads reshapes (B, H, T, d_head) straight to (B, T, H*d_head) without transposing back
# replaces: multihead_impl
# breaks: multihead
# replace:
    return x.transpose(1, 2).reshape(B, T, H * d_head)
# with:
    return x.reshape(B, T, H * d_head)                                  # BUG: heads and tokens mixed
