# mutant: fork copies every block of the parent into new blocks instead of sharing them (eager, not copy-on-write)
# replaces: paged_impl
# breaks: block_table
# replace:
        table = list(self.block_tables[parent_id])
        for block in table:
            self.ref_counts[block] += 1
# with:
        table = []
        for block in self.block_tables[parent_id]:
            new = self._new_block()
            self.k_blocks[new] = self.k_blocks[block]
            self.v_blocks[new] = self.v_blocks[block]
            table.append(new)
