"""mix: every draw uniform, length in [1, a], nesting in [1, b] (drawn again for every operand and every
small bound, so one program mixes lengths)."""

USES_LEVEL = False


def mixed_draw(target, uniform):
    a, b = target.length, target.nesting

    def mix() -> tuple[int, int]:
        return int(uniform() * a) + 1, int(uniform() * b) + 1

    return mix


def sampler(target, level, uniform, mix_probability):
    return mixed_draw(target, uniform)
