# alternative: wrappers allocate with torch.empty_like and a lambda grid; kernel masks padding with tl.where
# replaces: softmax_impl
# replace:
    x = tl.load(input_ptr + row * input_row_stride + offs, mask=mask, other=float("-inf"))
    z = x - tl.max(x, axis=0)
    numerator = tl.exp(z)
    y = numerator / tl.sum(numerator, axis=0)
# with:
    x = tl.load(input_ptr + row * input_row_stride + offs, mask=mask, other=0.0)
    x = tl.where(mask, x, float("-inf"))
    numerator = tl.where(mask, tl.exp(x - tl.max(x, axis=0)), 0.0)
    denominator = tl.sum(numerator, axis=0)
    y = numerator * (1.0 / denominator)
# replace:
    y = torch.empty((n_rows, n_cols), dtype=x.dtype, device=x.device)
    block = triton.next_power_of_2(n_cols)
    softmax_kernel[(n_rows,)](y, x, x.stride(0), y.stride(0), n_cols, BLOCK_SIZE=block)
# with:
    y = torch.empty_like(x, memory_format=torch.contiguous_format)
    grid = lambda meta: (n_rows,)
    softmax_kernel[grid](y, x, x.stride(0), y.stride(0), n_cols, BLOCK_SIZE=triton.next_power_of_2(n_cols))
