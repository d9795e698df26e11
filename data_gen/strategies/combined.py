"""combined ("blend" in the original): a mix draw with probability p (1/5 by default), otherwise the naive
level."""

from data_gen.strategies.mix import mixed_draw

USES_LEVEL = True


def sampler(target, level, uniform, mix_probability):
    mix = mixed_draw(target, uniform)
    current = (level.length, level.nesting)
    p = mix_probability
    return lambda: mix() if uniform() < p else current
