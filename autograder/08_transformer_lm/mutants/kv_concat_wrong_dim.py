# mutant: the cache concatenates new keys/values on the head axis (dim 1) instead of time (dim 2)
# replaces: kv_impl
# breaks: kv_cache
# replace:
            self.k = torch.cat([self.k, k_new], dim=2)
            self.v = torch.cat([self.v, v_new], dim=2)
# with:
            self.k = torch.cat([self.k, k_new], dim=1)      # BUG: wrong axis
            self.v = torch.cat([self.v, v_new], dim=1)
