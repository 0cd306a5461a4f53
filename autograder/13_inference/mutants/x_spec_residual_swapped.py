# mutant: a rejected draft is resampled from norm(max(0, q - p)) (arguments swapped) instead of norm(max(0, p - q))
# replaces: step_impl
# breaks: speculative_step
# replace:
            out.append(int(rng.choice(V, p=residual_distribution(p[i], q[i]))))
# with:
            out.append(int(rng.choice(V, p=residual_distribution(q[i], p[i]))))   # BUG: swapped
