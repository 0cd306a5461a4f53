# mutant: free returns every block of the sequence to the pool, even blocks a forked sequence still holds
# replaces: paged_impl
# breaks: block_table
# replace:
            self._release(block)
# with:
            self.ref_counts[block] = 0
            self.free_blocks.append(block)
