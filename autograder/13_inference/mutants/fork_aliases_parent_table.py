# mutant: fork hands the child the parent's block-table list object itself (aliasing): the parent's next append also changes the child's table
# replaces: paged_impl
# breaks: block_table
# replace:
        table = list(self.block_tables[parent_id])
# with:
        table = self.block_tables[parent_id]
