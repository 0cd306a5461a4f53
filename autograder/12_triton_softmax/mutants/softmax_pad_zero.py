# mutant: pads the masked lanes with other=0.0 instead of -inf
# replaces: softmax_impl
# breaks: softmax
# replace:
    x = tl.load(input_ptr + row * input_row_stride + offs, mask=mask, other=float("-inf"))
# with:
    x = tl.load(input_ptr + row * input_row_stride + offs, mask=mask, other=0.0)
