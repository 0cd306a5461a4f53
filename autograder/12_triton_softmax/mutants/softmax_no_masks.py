# mutant: loads and stores the whole block without a mask (reads and writes past the row end)
# replaces: softmax_impl
# breaks: softmax
# replace:
    x = tl.load(input_ptr + row * input_row_stride + offs, mask=mask, other=float("-inf"))
# with:
    x = tl.load(input_ptr + row * input_row_stride + offs)

# replace:
    tl.store(output_ptr + row * output_row_stride + offs, y, mask=mask)
# with:
    tl.store(output_ptr + row * output_row_stride + offs, y)
