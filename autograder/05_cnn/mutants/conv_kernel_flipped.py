# mutant: true convolution: the kernel is rotated by 180 degrees (F.conv2d does not flip it)
# replaces: conv2d_impl
# breaks: conv2d
# replace:
    out = weight.reshape(C_out, C_in * kh * kw) @ cols             # (N, C_out, L)
# with:
    flipped = torch.flip(weight, dims=(2, 3))                      # textbook convolution
    out = flipped.reshape(C_out, C_in * kh * kw) @ cols            # (N, C_out, L)
