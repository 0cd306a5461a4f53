# mutant: after a rejection the token is resampled from p instead of norm(max(0, p - q))
# replaces: step_impl
# breaks: speculative_step
# replace:
            out.append(int(rng.choice(V, p=residual_distribution(p[i], q[i]))))
# with:
            out.append(int(rng.choice(V, p=p[i])))
