# mutant: allocate takes blocks one by one without checking the pool first: an allocation that does not fit raises MemoryError half-way, with blocks already taken
# replaces: paged_impl
# breaks: block_table
# replace:
        if needed > len(self.free_blocks):
            raise MemoryError(f"sequence {seq_id!r} needs {needed} blocks, only {len(self.free_blocks)} are free")
# with:
