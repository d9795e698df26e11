"""The echo state network: its reservoir's spectral radius, its ridge readout, and a task it can learn."""

import numpy as np
import pytest

from lte.core.errors import USER_ERRORS, LteError
from lte.kinds.esn import ESNConfig, fit_esn, make_reservoir, ridge_readout


@pytest.mark.parametrize("radius", [0.5, 0.95])
def test_the_reservoir_has_the_requested_spectral_radius_and_density(radius):
    config = ESNConfig(units=120, spectral_radius=radius, density=0.2, seed=3)
    W = np.asarray(make_reservoir(config)["W"], np.float64)
    assert np.abs(np.linalg.eigvals(W)).max() == pytest.approx(radius, rel=1e-5)
    assert 0.15 < (W != 0).mean() < 0.25


def test_the_ridge_readout_equals_a_direct_least_squares_solve():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(size=(200, 7)), np.ones((200, 1))], axis=1)
    Y = rng.normal(size=(200, 3))
    ridge = 0.3
    W = ridge_readout(X.T @ X, X.T @ Y, ridge)
    # the same objective as an ordinary least-squares problem: sqrt(ridge) * I rows (bias row not shrunk)
    penalty = np.sqrt(ridge) * np.eye(8)[:7]
    direct, *_ = np.linalg.lstsq(np.concatenate([X, penalty]), np.concatenate([Y, np.zeros((7, 3))]), rcond=None)
    np.testing.assert_allclose(W, direct, rtol=1e-8, atol=1e-10)


def test_an_esn_learns_to_copy_short_numbers_with_only_its_readout_fitted():
    config = ESNConfig(
        task="copy", length=2, nesting=1, batch_size=16, test_size=100, units=150, fit_batches=20, spectral_radius=0.8
    )
    metrics = fit_esn(config)
    assert metrics["test_char_accuracy"] > 0.5  # chance over ten digits is about 0.1


def test_bad_esn_settings_are_named():
    with pytest.raises(LteError, match=r"leak_rate must be a number in \(0.0, 1.0\], got 1.5"):
        ESNConfig(leak_rate=1.5)
    with pytest.raises(LteError, match="units must be a positive integer, got 0"):
        ESNConfig(units=0)
    with pytest.raises(LteError, match="washout 16 leaves no step of a row to fit on: rows of this task are 16"):
        ESNConfig(task="copy", length=3, washout=16)
    with pytest.raises(USER_ERRORS, match="unknown task 'cpy'; allowed: program, addition, copy"):
        ESNConfig(task="cpy")
