"""Unit tests of latent-space analysis and latent-point validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from vaeapp.analysis import (
    interpolate,
    kl_per_dimension,
    nearest_neighbours,
    prior_samples,
)
from vaeapp.latent import Z_LIMIT, clean_z, parse_z_text
from vaeapp.store import best_pretrained, load_model


def test_neighbours_are_the_nearest_and_sorted() -> None:
    """nearest_neighbours returns the k closest points, nearest first, and a vote."""
    rng = np.random.default_rng(0)
    means = rng.normal(size=(500, 2)).astype(np.float32)
    labels = rng.integers(0, 10, 500).astype(np.uint8)
    z = np.array([0.3, -0.2], np.float32)
    index, distances, predicted = nearest_neighbours(means, labels, z, k=8)
    brute = np.argsort(np.linalg.norm(means - z, axis=1))[:8]
    assert index.tolist() == brute.tolist()
    assert np.all(np.diff(distances) >= 0)
    votes = np.bincount(labels[index], minlength=10)
    assert votes[predicted] == votes.max()


def test_neighbour_vote_tie_goes_to_the_nearer_point() -> None:
    """With a tied vote the label of the nearer neighbour wins."""
    means = np.array([[0.1, 0], [0.2, 0], [0.3, 0], [0.4, 0]], np.float32)
    labels = np.array([7, 3, 3, 7], np.uint8)
    _, _, predicted = nearest_neighbours(means, labels, np.zeros(2, np.float32), k=4)
    assert predicted == 7


def test_interpolation_endpoints_decode_to_the_endpoints_images() -> None:
    """The first and last interpolation steps decode to the endpoints' own images."""
    model = load_model(best_pretrained())
    a, b = model.latent_mean[0], model.latent_mean[1]
    path = interpolate(a, b, 10)
    assert path.shape == (10, 2)
    decoded = model.vae.decode(path)
    np.testing.assert_allclose(decoded[0], model.vae.decode(a)[0], atol=1e-6)
    np.testing.assert_allclose(decoded[-1], model.vae.decode(b)[0], atol=1e-6)
    steps = np.diff(path, axis=0)
    np.testing.assert_allclose(steps, np.repeat(steps[:1], 9, axis=0), atol=1e-6)


@pytest.mark.parametrize("steps", [7, 17, 0])
def test_interpolation_step_count_is_checked(steps: int) -> None:
    """Step counts outside 8..16 are refused."""
    with pytest.raises(ValueError, match="steps must be between 8 and 16"):
        interpolate(np.zeros(2), np.ones(2), steps)


def test_prior_samples_follow_the_temperature() -> None:
    """Prior samples are seeded and scale with the temperature."""
    a = prior_samples(32, 4, 1.0, seed=5)
    assert a.shape == (32, 4) and a.dtype == np.float32
    np.testing.assert_array_equal(a, prior_samples(32, 4, 1.0, seed=5))
    np.testing.assert_allclose(prior_samples(32, 4, 0.5, seed=5), 0.5 * a, rtol=1e-6)
    with pytest.raises(ValueError):
        prior_samples(0, 2)


def test_kl_per_dimension_matches_the_closed_form() -> None:
    """Per-dimension KL is 0 at the prior and matches log(1/s) + (s^2+m^2)/2 - 1/2."""
    assert kl_per_dimension(np.zeros((3, 2)), np.zeros((3, 2))) == pytest.approx(0)
    m, s = 1.5, 0.5
    kl = kl_per_dimension(np.full((1, 1), m), np.full((1, 1), 2 * math.log(s)))
    assert kl[0] == pytest.approx(math.log(1 / s) + (s * s + m * m) / 2 - 0.5)


@given(
    st.lists(
        st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=3)),
        min_size=2,
        max_size=2,
    )
)
@example([0.0, "0"])
@example(["1e30", "nan"])
def test_clean_z_always_gives_finite_values_in_range(values: list) -> None:
    """Whatever comes in, clean_z returns finite values within the slider range."""
    z, message = clean_z(values, 2)
    assert len(z) == 2
    assert all(math.isfinite(v) and abs(v) <= Z_LIMIT for v in z)
    fine = all(math.isfinite(n) and abs(n) <= Z_LIMIT for n in map(_as_number, values))
    assert (message is None) == fine


def _as_number(value: object) -> float:
    """What a URL or widget value means as a number: numeric text counts, else NaN."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def test_parse_z_text_reports_wrong_lengths() -> None:
    """A URL z with the wrong number of values is refused with a message."""
    z, message = parse_z_text("1,2,3", 2)
    assert z == [0.0, 0.0] and "2 values" in message
    z, message = parse_z_text("0.5,-1e30", 2)
    assert z == [0.5, -Z_LIMIT] and "outside" in message
