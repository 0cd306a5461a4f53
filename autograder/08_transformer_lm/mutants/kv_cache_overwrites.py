# mutant: the cache keeps only the newest keys/values instead of appending them
# replaces: kv_impl
# breaks: kv_cache
# replace:
        if self.k is None:
            self.k, self.v = k_new, v_new
        else:
            self.k = torch.cat([self.k, k_new], dim=2)
            self.v = torch.cat([self.v, v_new], dim=2)
# with:
        self.k, self.v = k_new, v_new                   # BUG: the past is forgotten
