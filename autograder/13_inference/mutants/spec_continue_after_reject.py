# mutant: after a rejection the step keeps verifying the later drafts instead of stopping (they were drafted after a token that is no longer there)
# replaces: step_impl
# breaks: speculative_step
# replace:
            out.append(int(rng.choice(V, p=residual_distribution(p[i], q[i]))))
            return out
# with:
            out.append(int(rng.choice(V, p=residual_distribution(p[i], q[i]))))
