# alternative: conv2d multiplies with einsum over the flattened kernel instead of @
# replaces: conv2d_impl
# replace:
    out = weight.reshape(C_out, C_in * kh * kw) @ cols             # (N, C_out, L)
    if bias is not None:
        out = out + bias.reshape(1, C_out, 1)
# with:
    out = torch.einsum("ok,nkl->nol", weight.reshape(C_out, -1), cols)
    if bias is not None:
        out = out + bias[None, :, None]
