# mutant: speculative_step overwrites the target row with the residual before sampling (in-place change of an input it must only read)
# replaces: step_impl
# breaks: speculative_step
# replace:
            out.append(int(rng.choice(V, p=residual_distribution(p[i], q[i]))))
# with:
            p[i] = residual_distribution(p[i], q[i])
            out.append(int(rng.choice(V, p=p[i])))
