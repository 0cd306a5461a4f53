# mutant: allocate takes n // block_size blocks (floor), so a partial last block is never stored
# replaces: paged_impl
# breaks: block_table
# replace:
        needed = -(-n // size)
# with:
        needed = n // size                                           # BUG: floor; tail tokens dropped
