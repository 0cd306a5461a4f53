# mutant: ddim_sample draws its noise from the global torch RNG instead of the generator argument: eta > 0 samples are not reproducible
# replaces: ddim_impl
# breaks: ddim
# replace:
            noise = torch.randn(x.shape, generator=generator, dtype=x.dtype) if eta > 0 else None
# with:
            noise = torch.randn(x.shape, dtype=x.dtype) if eta > 0 else None
