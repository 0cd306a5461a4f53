# mutant: copy-on-write releases the shared block before taking the new one: a MemoryError leaves the ref count changed
# replaces: paged_impl
# breaks: block_table
# replace:
            old = table[-1]
            new = self._new_block()
            self.k_blocks[new] = self.k_blocks[old]
            self.v_blocks[new] = self.v_blocks[old]
            self._release(old)
            table[-1] = new
# with:
            old = table[-1]
            self._release(old)                                       # BUG: before the allocation that may fail
            new = self._new_block()
            self.k_blocks[new] = self.k_blocks[old]
            self.v_blocks[new] = self.v_blocks[old]
            table[-1] = new
