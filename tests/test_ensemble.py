"""Training K models at once gives each model exactly what training it alone gives."""

import jax
import numpy as np

from lte.config import TrainConfig
from lte.data import TrainingBatches
from lte.ensemble import compiled_ensemble_step, stack, unstack
from lte.train import init_train_state, make_optimizer, make_train_step, with_learning_rate


def test_a_vmapped_ensemble_equals_separate_runs():
    configs = [TrainConfig(task="copy", length=3, nesting=1, model="irnn", hidden=16, layers=2, batch_size=4, seed=s,
                           learning_rate=lr) for s, lr in [(0, 0.1), (1, 0.05), (2, 0.2)]]
    states = [with_learning_rate(init_train_state(c), c.resolved_learning_rate) for c in configs]
    feeds = [TrainingBatches(c) for c in configs]
    single = make_train_step(configs[0].model_config(), make_optimizer(configs[0].clip))
    ensemble = compiled_ensemble_step(configs[0].model_config(), configs[0].clip)
    separate = list(states)
    together = stack(states)
    for step in range(3):
        batches = [f.get(step, c.spec().target) for f, c in zip(feeds, configs)]
        separate = [single(s, b)[0] for s, b in zip(separate, batches)]
        together, counts = ensemble(together, stack(batches))
        assert counts["scored"].shape == (3,)
    for f in feeds:
        f.close()
    for alone, mapped in zip(separate, unstack(together, 3)):
        for a, b in zip(jax.tree_util.tree_leaves(alone.params), jax.tree_util.tree_leaves(mapped.params)):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    # the models really differ (own seeds, own learning rates)
    first = [jax.tree_util.tree_leaves(s.params)[0] for s in separate]
    assert not np.allclose(np.asarray(first[0]), np.asarray(first[1]))
