# mutant: warmup counts steps from 1 (base_lr * (step + 1) / W): every warmup lr one step early
# replaces: schedule_impl
# breaks: lr_schedule
# replace:
        return base_lr * step / warmup_steps
# with:
        return base_lr * (step + 1) / warmup_steps               # BUG: off by one
