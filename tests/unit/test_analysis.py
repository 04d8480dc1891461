"""Unit tests of latent-space analysis and latent-point validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from vaeapp.core.latent import Z_LIMIT, clean_z, parse_z_text
from vaeapp.explore.analysis import (
    inspect_digit,
    interpolate,
    kl_per_dimension,
    nearest_neighbours,
    prior_samples,
)
from vaeapp.explore.images import error_image
from vaeapp.store.format import PRETRAINED_DIR
from vaeapp.store.listing import best_pretrained
from vaeapp.store.reading import load_model


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


class _Flat:
    """A codec whose posterior is N(0.5, 1) in 2-D and whose decoder says 0.5."""

    def encode(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.full((len(x), 2), 0.5, np.float32), np.zeros((len(x), 2), np.float32)

    def decode(self, z: np.ndarray) -> np.ndarray:
        return np.full((len(z), 784), 0.5, np.float32)


def test_inspect_digit_losses_match_hand_computation() -> None:
    """A decoder saying 0.5 everywhere costs 784 ln 2 nats; KL matches the formula."""
    result = inspect_digit(_Flat(), np.linspace(0, 1, 784))
    assert result.recon_loss == pytest.approx(784 * math.log(2), rel=1e-6)
    assert result.kl == pytest.approx(2 * 0.5 * 0.25)
    np.testing.assert_allclose(result.error, 0.5 - np.linspace(0, 1, 784), atol=1e-6)
    np.testing.assert_allclose(result.sigma, [1.0, 1.0])


def test_inspect_digit_on_a_test_image_uses_its_stored_mean() -> None:
    """Inspecting shipped test digit 7 gives its stored mean and the decode there."""
    model = load_model(PRETRAINED_DIR / "mnist-tutorial")
    image = model.test_images[7] / np.float32(255)
    result = inspect_digit(model.vae, image)
    np.testing.assert_allclose(result.mean, model.latent_mean[7], atol=1e-4)
    np.testing.assert_allclose(
        result.sigma, np.exp(0.5 * model.latent_log_var[7]), rtol=1e-4
    )
    np.testing.assert_allclose(
        result.reconstruction, model.vae.decode(result.mean)[0], atol=1e-6
    )
    assert 0 < result.recon_loss < 400 and result.kl > 0


@pytest.mark.parametrize(
    "bad", [np.zeros(0), np.full(784, np.nan), np.full(784, 2.0), np.full(12, -0.5)]
)
def test_inspect_digit_refuses_bad_images(bad: np.ndarray) -> None:
    """Empty images, NaN or out-of-range pixels raise ValueError."""
    with pytest.raises(ValueError, match="finite pixel values in"):
        inspect_digit(_Flat(), bad)


def test_error_image_colours_the_sign_of_the_error() -> None:
    """Too bright is red, too dark is blue, no error is white; upscaled crisply."""
    error = np.zeros(784, np.float32)
    error[0], error[1] = 1.0, -1.0
    picture = error_image(error, scale=2)
    assert picture.shape == (56, 56, 3)
    assert picture[0, 0].tolist() == [255, 0, 0]
    assert picture[0, 2].tolist() == [0, 0, 255]
    assert picture[0, 4].tolist() == [255, 255, 255]


def test_inspect_digit_uses_a_given_posterior() -> None:
    """A test image's stored q (a refined folder's) is used as given, not the
    encoder's, for the mean, sigma, reconstruction and KL."""
    model = load_model(PRETRAINED_DIR / "mnist-wide")
    assert model.record.refine is not None
    image = model.test_images[3] / np.float32(255)
    stored = (model.latent_mean[3], model.latent_log_var[3])
    result = inspect_digit(model.vae, image, stored)
    np.testing.assert_array_equal(result.mean, stored[0])
    assert np.abs(result.mean - model.vae.encode(image[None])[0][0]).max() > 1e-3
    np.testing.assert_allclose(
        result.reconstruction, model.vae.decode(stored[0][None])[0], atol=1e-6
    )
