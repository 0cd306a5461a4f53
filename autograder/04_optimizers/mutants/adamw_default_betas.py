# mutant: AdamW calls adam_update without passing its own betas and eps on
# replaces: adamw_impl
# breaks: adamw
# replace:
    adam_update(p, g, state, lr, betas=betas, eps=eps)
# with:
    adam_update(p, g, state, lr)
