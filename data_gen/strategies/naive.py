"""naive: every draw at the current level, which starts at (1, 1) and advances length 1 -> a, then
nesting + 1 with length back to 1."""

USES_LEVEL = True


def sampler(target, level, uniform, mix_probability):
    current = (level.length, level.nesting)
    return lambda: current
