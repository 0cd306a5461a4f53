# mutant: dt = 1 / (num_steps - 1) (linspace-style grid): the times and the step size are off and t overshoots 1
# replaces: euler_impl
# breaks: euler_sampler
# replace:
    dt = 1.0 / num_steps
# with:
    dt = 1.0 / max(num_steps - 1, 1)
