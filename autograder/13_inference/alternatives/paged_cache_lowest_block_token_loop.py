# alternative: blocks taken lowest id first (any physical block will do), K/V written token by token through slot(), a while loop in free
# replaces: paged_impl
class PagedKVCache(PagedKVCacheBase):
    """A paged KV cache with reference-counted blocks and copy-on-write fork."""

    def _new_block(self):
        """Take a block from the pool; its reference count becomes 1. MemoryError if the pool is empty."""
        if len(self.free_blocks) == 0:
            raise MemoryError("pool exhausted")
        block = min(self.free_blocks)
        self.free_blocks.remove(block)
        self.ref_counts[block] = 1
        return block

    def _release(self, block):
        """Drop one reference to a block; it goes back to the pool only when no block table holds it any more."""
        self.ref_counts[block] = self.ref_counts[block] - 1
        if self.ref_counts[block] <= 0:
            self.ref_counts[block] = 0
            self.free_blocks.append(block)

    def allocate(self, seq_id, k, v):
        """Prefill: store a new sequence's K and V, (n, head_dim) each, in ceil(n / block_size) new blocks.

        Raises MemoryError, changing nothing, if the pool has fewer free blocks than needed."""
        n = k.shape[0]
        needed = math.ceil(n / self.block_size)
        if needed > self.num_free_blocks():
            raise MemoryError("not enough free blocks")
        self.block_tables[seq_id] = [self._new_block() for _ in range(needed)]
        self.seq_lens[seq_id] = n
        for t in range(n):
            block, offset = self.slot(seq_id, t)
            self.k_blocks[block, offset, :] = k[t]
            self.v_blocks[block, offset, :] = v[t]

    def append(self, seq_id, k, v):
        """Decode: store one more token's K and V, (head_dim,) each, in the sequence's last block."""
        n = self.seq_lens[seq_id]
        table = self.block_tables[seq_id]
        if n == len(table) * self.block_size:
            table.append(self._new_block())
        else:
            last = table[-1]
            if self.ref_counts[last] > 1:
                copy = self._new_block()
                self.k_blocks[copy, :, :] = self.k_blocks[last, :, :]
                self.v_blocks[copy, :, :] = self.v_blocks[last, :, :]
                table[len(table) - 1] = copy
                self._release(last)
        self.seq_lens[seq_id] = n + 1
        block, offset = self.slot(seq_id, n)
        self.k_blocks[block, offset, :] = k
        self.v_blocks[block, offset, :] = v

    def fork(self, parent_id, child_id):
        """The child shares every block of the parent (reference count + 1 each); no KV data is copied."""
        self.block_tables[child_id] = self.block_tables[parent_id][:]
        self.seq_lens[child_id] = self.seq_lens[parent_id]
        for block in self.block_tables[child_id]:
            self.ref_counts[block] += 1

    def free(self, seq_id):
        """Release every block of the sequence and forget it."""
        table = self.block_tables.pop(seq_id)
        self.seq_lens.pop(seq_id)
        while table:
            self._release(table.pop())
