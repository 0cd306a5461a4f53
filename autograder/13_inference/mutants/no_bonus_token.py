# mutant: no bonus token from p[gamma] when every draft token is accepted
# replaces: step_impl
# breaks: speculative_step
# replace:
    out.append(int(rng.choice(V, p=p[gamma])))
# with:
