# mutant: the momentum buffer is the first gradient tensor itself (no clone): zero_grad() then wipes it
# replaces: sgd_impl
# breaks: sgd_momentum
# replace:
            buf = d_p.clone()
# with:
            buf = d_p
