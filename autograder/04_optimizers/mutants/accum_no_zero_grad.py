# mutant: does not start from zero gradients: adds onto whatever p.grad held
# replaces: accum_impl
# breaks: grad_accumulation
# replace:
    model.zero_grad(set_to_none=True)
# with:
    pass
