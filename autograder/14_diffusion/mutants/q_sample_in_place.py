# mutant: q_sample scales x0 in place (x0.mul_): the values are right, but the caller's x0 is overwritten
# replaces: q_sample_impl
# breaks: forward_process
# replace:
    return (ab.sqrt() * x0 + (1.0 - ab).sqrt() * noise).to(x0.dtype)
# with:
    return x0.mul_(ab.sqrt().to(x0.dtype)).add_(((1.0 - ab).sqrt() * noise).to(x0.dtype))
