# mutant: append writes into the shared last block in place (no copy-on-write)
# replaces: paged_impl
# breaks: block_table
# replace:
        elif self.ref_counts[table[-1]] > 1:
# with:
        elif False:
