# mutant: refcount leak: free releases only the blocks it holds alone; shared blocks keep their count and never return to the pool
# replaces: paged_impl
# breaks: block_table
# replace:
            self._release(block)
# with:
            if self.ref_counts[block] == 1:
                self._release(block)
