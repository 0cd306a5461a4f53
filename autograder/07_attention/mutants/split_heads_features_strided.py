# mutant: split_heads gives head i the features i, i+H, i+2H, ... (reshape to (d_head, H) then permute)
# replaces: multihead_impl
# breaks: multihead
# replace:
    return x.reshape(B, T, num_heads, d_model // num_heads).transpose(1, 2)
# with:
    return x.reshape(B, T, d_model // num_heads, num_heads).permute(0, 3, 1, 2)   # BUG: strided features

# replace:
    return x.transpose(1, 2).reshape(B, T, H * d_head)
# with:
    return x.permute(0, 2, 3, 1).reshape(B, T, H * d_head)           # consistent with the split above
