# mutant: refcount leak: free releases only the blocks it holds alone; shared blocks keep their count and never return to the pool
# replaces: paged_impl
# breaks: block_table
class PagedKVCache(PagedKVCacheBase):
    """A paged KV cache with reference-counted blocks and copy-on-write fork."""

    def _new_block(self):
        """Take a block from the pool; its reference count becomes 1. MemoryError if the pool is empty."""
        if not self.free_blocks:
            raise MemoryError("no free KV block left in the pool")
        block = self.free_blocks.pop()
        self.ref_counts[block] = 1
        return block

    def _release(self, block):
        """Drop one reference to a block; it goes back to the pool only when no block table holds it any more."""
        self.ref_counts[block] -= 1
        if self.ref_counts[block] == 0:
            self.free_blocks.append(block)

    def allocate(self, seq_id, k, v):
        """Prefill: store a new sequence's K and V, (n, head_dim) each, in ceil(n / block_size) new blocks.

        Raises MemoryError, changing nothing, if the pool has fewer free blocks than needed."""
        if seq_id in self.block_tables:
            raise ValueError(f"sequence {seq_id!r} already exists")
        n, size = len(k), self.block_size
        needed = -(-n // size)
        if needed > len(self.free_blocks):
            raise MemoryError(f"sequence {seq_id!r} needs {needed} blocks, only {len(self.free_blocks)} are free")
        table = [self._new_block() for _ in range(needed)]
        for i, block in enumerate(table):
            lo, hi = i * size, min(n, (i + 1) * size)
            self.k_blocks[block, : hi - lo] = k[lo:hi]
            self.v_blocks[block, : hi - lo] = v[lo:hi]
        self.block_tables[seq_id] = table
        self.seq_lens[seq_id] = n

    def append(self, seq_id, k, v):
        """Decode: store one more token's K and V, (head_dim,) each, in the sequence's last block.

        Last block full (or no block yet): take a new block. Last block shared (ref count > 1):
        copy-on-write (copy it into a new block, drop one reference to the old one, write into the copy).
        Otherwise write in place. MemoryError, changing nothing, if a block is needed and none is free."""
        table = self.block_tables[seq_id]
        t = self.seq_lens[seq_id]
        offset = t % self.block_size
        if offset == 0:
            table.append(self._new_block())
        elif self.ref_counts[table[-1]] > 1:
            old = table[-1]
            new = self._new_block()
            self.k_blocks[new] = self.k_blocks[old]
            self.v_blocks[new] = self.v_blocks[old]
            self._release(old)
            table[-1] = new
        block = table[-1]
        self.k_blocks[block, offset] = k
        self.v_blocks[block, offset] = v
        self.seq_lens[seq_id] = t + 1

    def fork(self, parent_id, child_id):
        """The child shares every block of the parent (reference count + 1 each); no KV data is copied."""
        if child_id in self.block_tables:
            raise ValueError(f"sequence {child_id!r} already exists")
        table = list(self.block_tables[parent_id])
        for block in table:
            self.ref_counts[block] += 1
        self.block_tables[child_id] = table
        self.seq_lens[child_id] = self.seq_lens[parent_id]

    def free(self, seq_id):
        """Release every block of the sequence and forget it."""
        for block in self.block_tables.pop(seq_id):
            if self.ref_counts[block] == 1:
                self._release(block)
        del self.seq_lens[seq_id]
