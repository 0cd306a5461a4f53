# mutant: RMSNorm subtracts the mean first (LayerNorm without beta)
# replaces: rmsnorm_impl
# breaks: rmsnorm
# replace:
        ### BEGIN SOLUTION
# with:
        ### BEGIN SOLUTION
        x = x - x.mean(dim=-1, keepdim=True)          # BUG: RMSNorm does not re-center
