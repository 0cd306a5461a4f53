# mutant: copy-on-write copies the K block into the new block but forgets V: the writer's earlier V values are lost
# replaces: paged_impl
# breaks: block_table
# replace:
            self.v_blocks[new] = self.v_blocks[old]
# with:
