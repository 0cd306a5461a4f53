# mutant: absorbed path reads k_up.weight as (H, d_latent, d_head) per head: the wrong (transposed) W_UK is folded into q
# replaces: absorb_impl
# breaks: mla_absorbed
# replace:
    W_uk = mla.k_up.weight.view(H, d_head, d_c)                         # W_UK^(h): (d_head, d_c)
# with:
    W_uk = mla.k_up.weight.view(H, d_c, d_head).transpose(1, 2)         # wrong: not W_UK^(h)
