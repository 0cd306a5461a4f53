# mutant: split_heads reshapes straight to (B, H, T, d_head) without the transpose (mixes tokens)
# replaces: multihead_impl
# breaks: multihead
# replace:
    return x.reshape(B, T, num_heads, d_model // num_heads).transpose(1, 2)
# with:
    return x.reshape(B, num_heads, T, d_model // num_heads)           # BUG: no transpose

# replace:
    return x.transpose(1, 2).reshape(B, T, H * d_head)
# with:
    return x.reshape(B, T, H * d_head)                                  # consistent with the split above
