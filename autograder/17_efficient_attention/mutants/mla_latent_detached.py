# mutant: the forward detaches the latents it caches ("the cache needs no graph"): outputs and caches are right, but no gradient reaches kv_down or x through K and V
# replaces: mla_impl
# breaks: mla_forward
# loses: 0.3 values and caches are right; only the gradient check (weight 2 of 6) can see the cut graph
# replace:
        c_kv = self.kv_down(x)                                           # (B, T, d_latent)
# with:
        c_kv = self.kv_down(x).detach()
