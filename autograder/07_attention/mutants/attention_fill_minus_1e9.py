# mutant: blocked scores filled with -1e9 instead of -inf: a fully masked row becomes uniform, huge negative scores lose to blocked keys
# replaces: attention_impl
# breaks: attention
# replace:
        scores = scores.masked_fill(~mask, float("-inf"))
# with:
        scores = scores.masked_fill(~mask, -1e9)
