# mutant: cosine progress divided by total_steps instead of the cosine length total_steps - warmup_steps
# replaces: schedule_impl
# breaks: lr_schedule
# replace:
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
# with:
    progress = (step - warmup_steps) / total_steps                # BUG: never reaches 1 before T
