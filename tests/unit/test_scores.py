"""k-nearest-neighbour accuracy of a map and the importance-weighted estimate
of -log p(x), on small constructed cases and a shipped model."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from vaeapp.explore.scores import iwae_nll, knn_accuracy
from vaeapp.store.format import PRETRAINED_DIR
from vaeapp.store.reading import load_model


def test_knn_accuracy_of_two_far_clusters_is_one():
    """Two well-separated clusters of six points each: every vote is right."""
    left = np.array([[0, 0], [0, 1], [1, 0], [1, 1], [0.5, 0.5], [0, 0.5]])
    points = np.concatenate([left, left + 100])
    labels = np.repeat([0, 1], 6)
    assert knn_accuracy(points, labels) == 1.0


def test_knn_accuracy_counts_a_planted_outlier_as_wrong():
    """A point labelled 1 inside a cluster of 0s is outvoted; the 0s around it
    still have a majority of 0s among their five neighbours."""
    rng = np.random.default_rng(0)
    points = rng.normal(size=(30, 2))
    labels = np.zeros(30, int)
    labels[0] = 1
    assert knn_accuracy(points, labels) == pytest.approx(29 / 30)


def test_knn_accuracy_leaves_each_point_out_of_its_own_vote():
    """With k = 1 on pairs of duplicated points of opposite labels, each point's
    only neighbour is its twin, so none is right (its own label never votes)."""
    points = np.repeat(np.arange(6, dtype=float)[:, None] * 10, 2, axis=0)
    points = np.hstack([points, np.zeros_like(points)])
    labels = np.tile([0, 1], 6)
    assert knn_accuracy(points, labels, k=1) == 0.0


@pytest.mark.parametrize(
    ("points", "labels", "k", "message"),
    [
        (np.zeros((5, 2)), np.zeros(4), 1, "points must be"),
        (np.zeros(5), np.zeros(5), 1, "points must be"),
        (np.zeros((5, 2)), np.zeros(5), 5, "k must be 1 to 4"),
        (np.full((6, 2), np.nan), np.zeros(6), 1, "finite"),
    ],
)
def test_knn_accuracy_refuses_bad_input(points, labels, k, message):
    """Mismatched shapes, too few points and NaN raise ValueError naming it."""
    with pytest.raises(ValueError, match=message):
        knn_accuracy(points, labels, k=k)


@given(
    points=hnp.arrays(
        np.float64,
        st.tuples(st.integers(6, 40), st.just(2)),
        elements=st.floats(-4, 4),
    ),
    seed=st.integers(0, 2**16),
)
@settings(max_examples=40, deadline=None)
def test_knn_accuracy_is_a_share_and_ignores_label_names(points, seed):
    """The accuracy is in [0, 1] and does not change when labels are renamed."""
    labels = np.random.default_rng(seed).integers(0, 3, points.shape[0])
    accuracy = knn_accuracy(points, labels)
    assert 0.0 <= accuracy <= 1.0
    assert knn_accuracy(points, labels + 7) == accuracy


class ConstantModel:
    """A model whose posterior is the prior and whose decoder ignores z, with
    the logits ``logit`` at every pixel: then p(x) = p(x|z) exactly."""

    def __init__(self, logit: float, n_pixels: int = 6, latent_dim: int = 2):
        self.config = SimpleNamespace(n_pixels=n_pixels, latent_dim=latent_dim)
        self.logit = logit

    def encode(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        zeros = np.zeros((x.shape[0], self.config.latent_dim), np.float32)
        return zeros, zeros

    def decode_logits(self, z: np.ndarray) -> np.ndarray:
        return np.full((z.shape[0], self.config.n_pixels), self.logit, np.float32)


@pytest.mark.parametrize("samples", [1, 7, 1000])
def test_iwae_is_exact_when_the_posterior_is_the_prior_and_z_unused(samples):
    """With q = p(z) and p(x|z) = p(x), every weight is p(x): the estimate is
    -log p(x) for any K, here the Bernoulli loss of known pixels."""
    x = np.array([[0.0, 1.0, 1.0, 0.0, 0.25, 0.5]], np.float32)
    p = 1.0 / (1.0 + np.exp(-0.8))
    expected = -np.sum(x * np.log(p) + (1 - x) * np.log(1 - p))
    got = iwae_nll(ConstantModel(0.8), x, samples)
    np.testing.assert_allclose(got, [expected], rtol=1e-6)


@pytest.fixture(scope="module")
def tutorial():
    return load_model(PRETRAINED_DIR / "mnist-tutorial")


def test_iwae_is_below_the_elbo_and_falls_as_k_grows(tutorial):
    """On 100 test images of mnist-tutorial: the estimate with K = 1000 is at
    most the negative ELBO (analytic KL, 100 draws), and K = 10, 100, 1000 do
    not rise beyond their noise (0.1 nats)."""
    x = tutorial.test_images[:100].astype(np.float32) / 255.0
    mean, log_var = tutorial.vae.encode(x)
    rng = np.random.default_rng(1)
    draws = [
        tutorial.vae.decode(
            mean + np.exp(0.5 * log_var) * rng.standard_normal(mean.shape)
        )
        for _ in range(100)
    ]
    recon = np.mean(
        [
            -np.sum(
                x * np.log(np.clip(p, 1e-7, 1))
                + (1 - x) * np.log(np.clip(1 - p, 1e-7, 1)),
                axis=1,
            )
            for p in draws
        ],
        axis=0,
    )
    kl = -0.5 * np.sum(1 + log_var - mean**2 - np.exp(log_var), axis=1)
    neg_elbo = float(np.mean(recon + kl))
    estimates = [iwae_nll(tutorial.vae, x, k, seed=2).mean() for k in (10, 100, 1000)]
    assert estimates[2] < neg_elbo
    assert estimates[1] <= estimates[0] + 0.1 and estimates[2] <= estimates[1] + 0.1
    assert neg_elbo - estimates[2] > 1.0  # the bound is tighter by a visible margin


def test_iwae_refuses_bad_images_and_sample_counts():
    """Pixels outside [0, 1], a wrong pixel count or K = 0 raise ValueError."""
    model = ConstantModel(0.0)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        iwae_nll(model, np.full((1, 6), 2.0), 3)
    with pytest.raises(ValueError, match=r"\(n, 6\)"):
        iwae_nll(model, np.zeros((1, 5)), 3)
    with pytest.raises(ValueError, match="samples must be"):
        iwae_nll(model, np.zeros((1, 6)), 0)


def test_iwae_with_a_refined_posterior_is_tighter(tutorial):
    """Given a folder's q (here the encoder's refined per image) as the
    proposal, the estimate uses it: the encoder's own q passed explicitly
    gives the default's figure, the refined one a lower one on average."""
    from vaeapp.core.config import RefineConfig
    from vaeapp.inference.refinement import refine

    x = tutorial.test_images[:60].astype(np.float32) / 255.0
    q = tutorial.vae.encode(x)
    default = iwae_nll(tutorial.vae, x, 20, seed=3)
    explicit = iwae_nll(tutorial.vae, x, 20, seed=3, posterior=q)
    np.testing.assert_allclose(explicit, default, rtol=1e-6)
    refined = refine(tutorial.vae, x, *q, RefineConfig(steps=30))
    assert iwae_nll(tutorial.vae, x, 20, seed=3, posterior=refined).mean() < (
        default.mean()
    )
    with pytest.raises(ValueError, match="posterior must be two"):
        iwae_nll(tutorial.vae, x, 5, posterior=(q[0][:5], q[1][:5]))
