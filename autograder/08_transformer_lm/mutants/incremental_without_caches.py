# mutant: incremental_logits feeds each new token alone WITHOUT the caches (it sees no context)
# replaces: kv_impl
# breaks: kv_cache
# replace:
        outs.append(model(idx[:, t:t + 1], caches, start_pos=t))
# with:
        outs.append(model(idx[:, t:t + 1], None, start_pos=t))  # BUG: caches not passed
