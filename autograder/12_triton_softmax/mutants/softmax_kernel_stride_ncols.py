# mutant: the kernel assumes row stride == n_cols (ignores the stride arguments)
# replaces: softmax_impl
# breaks: softmax
# replace:
    x = tl.load(input_ptr + row * input_row_stride + offs, mask=mask, other=float("-inf"))
# with:
    x = tl.load(input_ptr + row * n_cols + offs, mask=mask, other=float("-inf"))

# replace:
    tl.store(output_ptr + row * output_row_stride + offs, y, mask=mask)
# with:
    tl.store(output_ptr + row * n_cols + offs, y, mask=mask)
