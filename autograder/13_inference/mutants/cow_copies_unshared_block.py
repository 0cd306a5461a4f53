# mutant: append copies the last block on every write into a partly filled block, even when no other sequence holds it
# replaces: paged_impl
# breaks: block_table
# replace:
        elif self.ref_counts[table[-1]] > 1:
# with:
        elif self.ref_counts[table[-1]] >= 1:
