"""Per-image refinement of q(z|x): its gradient, its gain and its independence."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import log_expit

from vaeapp.core.config import LOG_VAR_LIMIT, ModelConfig, RefineConfig
from vaeapp.inference.numpy_vae import Dense, NumpyVAE
from vaeapp.inference.refinement import (
    check_refinable,
    neg_elbo,
    reconstruction_and_grad,
    refine,
)


def tiny_vae(latent_dim: int = 2, seed: int = 0) -> NumpyVAE:
    """A random dense 64-pixel VAE with 8-wide hidden layers whose decoded
    pixels span (0, 1)."""
    rng = np.random.default_rng(seed)
    config = ModelConfig(hidden=(8,), latent_dim=latent_dim, image_shape=(8, 8, 1))

    def dense(n_in: int, n_out: int, scale: float = 1.0) -> Dense:
        kernel = rng.normal(0.0, scale / np.sqrt(n_in), (n_in, n_out))
        return Dense(
            kernel.astype(np.float32), rng.normal(0, 0.3, n_out).astype(np.float32)
        )

    return NumpyVAE(
        config=config,
        encoder_hidden=(dense(64, 8),),
        mean_head=dense(8, latent_dim),
        log_var_head=dense(8, latent_dim, 0.3),
        decoder_hidden=(dense(latent_dim, 8, 2.0), dense(8, 8, 2.0)),
        logits_head=dense(8, 64, 3.0),
    )


def images(n: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 64)).astype(np.float32)


def test_gradient_matches_finite_differences():
    """The hand-written gradient of -log p(x|z) in z equals central differences."""
    vae = tiny_vae(latent_dim=3)
    x = images(5)
    z = np.random.default_rng(2).normal(size=(5, 3))
    _, grad = reconstruction_and_grad(vae, z, x)
    step = 1e-2
    for k in range(3):
        shift = np.zeros(3)
        shift[k] = step
        up, _ = reconstruction_and_grad(vae, z + shift, x)
        down, _ = reconstruction_and_grad(vae, z - shift, x)
        np.testing.assert_allclose(grad[:, k], (up - down) / (2 * step), atol=0.05)


def test_loss_is_the_decoders_bernoulli_likelihood():
    """The loss returned with the gradient is the summed cross-entropy of the
    decoder's pixel means, as neg_elbo's reconstruction term computes it."""
    vae = tiny_vae()
    x, z = images(4), np.random.default_rng(3).normal(size=(4, 2))
    loss, _ = reconstruction_and_grad(vae, z, x)
    logits = vae.decode_logits(z.astype(np.float32)).astype(np.float64)
    # log sigma(l) and log(1 - sigma(l)) = log sigma(-l), without rounding.
    expected = -(x * log_expit(logits) + (1 - x) * log_expit(-logits)).sum(axis=1)
    np.testing.assert_allclose(loss, expected, rtol=1e-4)


def test_refinement_lowers_the_negative_elbo():
    """Refined q gives a lower held-out negative ELBO than the encoder's q, by
    more than the measurement's noise, measured with draws of its own."""
    vae = tiny_vae()
    x = images(200)
    mean, log_var = vae.encode(x)
    config = RefineConfig(steps=60, learning_rate=0.05, draws=4)
    refined = refine(vae, x, mean, log_var, config)
    before = sum(neg_elbo(vae, x, mean, log_var, draws=50, seed=9))
    after = sum(neg_elbo(vae, x, *refined, draws=50, seed=9))
    assert after.mean() < before.mean() - 0.5
    assert (after < before).mean() > 0.8


def test_an_images_q_does_not_depend_on_its_companions():
    """Refining an image alone or among others, in any batch, gives the same q."""
    vae = tiny_vae()
    x = images(300)
    mean, log_var = vae.encode(x)
    config = RefineConfig(steps=5)
    together = refine(vae, x, mean, log_var, config)
    alone = refine(vae, x[290:291], mean[290:291], log_var[290:291], config)
    np.testing.assert_allclose(alone[0][0], together[0][290], atol=1e-5)
    np.testing.assert_allclose(alone[1][0], together[1][290], atol=1e-5)


def test_refinement_is_deterministic_and_seeded():
    """The same seed gives the same q; another seed another one."""
    vae = tiny_vae()
    x = images(10)
    start = vae.encode(x)
    config = RefineConfig(steps=5)
    first = refine(vae, x, *start, config)
    again = refine(vae, x, *start, config)
    other = refine(vae, x, *start, dataclasses.replace(config, seed=1))
    np.testing.assert_array_equal(first[0], again[0])
    assert not np.array_equal(first[0], other[0])


def test_a_runaway_decoder_leaves_finite_bounded_q():
    """Weights that overflow keep every refined value finite and within the
    bounds a model folder may hold."""
    vae = tiny_vae()
    huge = Dense(vae.logits_head.kernel * 1e30, vae.logits_head.bias)
    vae = dataclasses.replace(vae, logits_head=huge)
    x = images(6)
    with np.errstate(all="ignore"):
        mean, log_var = refine(
            vae, x, *vae.encode(x), RefineConfig(steps=10, learning_rate=1.0)
        )
    assert np.isfinite(mean).all() and np.isfinite(log_var).all()
    assert np.abs(log_var).max() <= LOG_VAR_LIMIT


def test_conv_decoders_are_refused():
    """Refinement names the dense decoder it needs instead of a wrong answer."""
    from vaeapp.inference.numpy_vae import load_numpy_vae
    from vaeapp.store.format import PRETRAINED_DIR, WEIGHTS_FILE
    from vaeapp.store.reading import read_record

    folder = PRETRAINED_DIR / "mnist-conv"
    vae = load_numpy_vae(folder / WEIGHTS_FILE, read_record(folder).model)
    with pytest.raises(ValueError, match="dense decoder"):
        check_refinable(vae)


@given(
    st.dictionaries(
        st.sampled_from(["steps", "learning_rate", "draws", "seed", "other"]),
        st.one_of(
            st.integers(-10, 10**12),
            st.floats(allow_nan=True, allow_infinity=True),
            st.booleans(),
            st.text(max_size=3),
            st.none(),
        ),
    )
)
def test_settings_from_json_are_checked(data):
    """Any JSON object gives settings within their limits or a ValueError."""
    try:
        config = RefineConfig.from_dict(data)
    except ValueError:
        return
    assert 1 <= config.steps <= 200 and 1 <= config.draws <= 16
    assert 1e-4 <= config.learning_rate <= 1.0 and config.seed >= 0
