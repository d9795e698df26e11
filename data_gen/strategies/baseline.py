"""baseline: every draw at the target difficulty (a, b)."""

USES_LEVEL = False


def sampler(target, level, uniform, mix_probability):
    fixed_target = (target.length, target.nesting)
    return lambda: fixed_target
