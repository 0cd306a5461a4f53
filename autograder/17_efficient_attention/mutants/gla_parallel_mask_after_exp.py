# mutant: gla_parallel zeroes the future AFTER exp: the forward values are right (masked_fill replaces the inf), but exp overflows above the diagonal and the backward pass gives 0 * inf = NaN
# replaces: gla_parallel_impl
# breaks: gla_parallel
# replace:
    decay = diff.masked_fill(~keep.unsqueeze(-1), float("-inf")).exp()  # 0 above the diagonal, <= 1 below
# with:
    decay = diff.exp().masked_fill(~keep.unsqueeze(-1), 0.0)
