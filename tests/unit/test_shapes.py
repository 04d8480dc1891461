"""The generated shapes data set: determinism, geometry, colour and the splits."""

from __future__ import annotations

import colorsys
import io
import math
import time
from collections.abc import Callable

import numpy as np
import pytest

from vaeapp.data import shapes
from vaeapp.data.shapes import (
    AREA_FRACTION,
    FACTORS,
    SHAPE_NAMES,
    VALUE,
    factor_ranges,
    generate,
    hue_to_rgb,
    load_shapes,
    render,
    sample_factors,
    split_seeds,
)

SIDE = 32


@pytest.fixture(scope="module")
def sample() -> tuple[np.ndarray, np.ndarray]:
    """2,000 images and factors, shared by the geometry tests (about 0.1 s)."""
    return generate(2000, seed=5)


def _coverage(images: np.ndarray) -> np.ndarray:
    """``(n, side, side)`` images back to shape coverage: the brightest channel.

    On the black background a pixel is colour x coverage and the colour's
    brightest channel is 255 x VALUE.
    """
    return images.max(axis=3).astype(np.float64) / (255 * VALUE)


def _centre_of_mass(cover: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(n,)`` x and ``(n,)`` y of the coverage's centre of mass, in pixels."""
    centres = np.arange(cover.shape[1]) + 0.5
    area = cover.sum(axis=(1, 2))
    x = (cover.sum(axis=1) * centres).sum(axis=1) / area
    y = (cover.sum(axis=2) * centres).sum(axis=1) / area
    return x, y


def _classify(cover: np.ndarray) -> np.ndarray:
    """``(n,)`` shape indices read from the pixels alone, without the factors.

    A triangle's rows are skewed (wide at the bottom); a square fills the box
    of its widest row and tallest column, a circle about pi/4 of it, a cross
    5/9 of it.
    """
    centres = np.arange(cover.shape[1]) + 0.5
    rows, columns = cover.sum(axis=2), cover.sum(axis=1)
    area = cover.sum(axis=(1, 2))
    _, y = _centre_of_mass(cover)
    offset = centres[None, :] - y[:, None]
    variance = (rows * offset**2).sum(axis=1) / area
    skew = (rows * offset**3).sum(axis=1) / area / variance**1.5
    fill = area / (rows.max(axis=1) * columns.max(axis=1))
    names = np.where(
        skew < -0.3,
        "triangle",
        np.where(fill > 0.95, "square", np.where(fill > 0.7, "circle", "cross")),
    )
    return np.array([SHAPE_NAMES.index(name) for name in names])


def test_arrays_have_the_documented_shapes_and_dtypes() -> None:
    """Images are (n, side, side, 3) uint8 and factors (n, 5) float32."""
    images, factors = generate(10, seed=0)
    assert images.shape == (10, SIDE, SIDE, 3) and images.dtype == np.uint8
    assert factors.shape == (10, len(FACTORS)) and factors.dtype == np.float32
    images, factors = generate(3, seed=0, side=48)
    assert images.shape == (3, 48, 48, 3)
    images, factors = generate(0, seed=0)
    assert images.shape == (0, SIDE, SIDE, 3) and factors.shape == (0, 5)


def test_the_same_seed_gives_identical_images() -> None:
    """Two runs with one seed agree bit for bit, images and factors."""
    first, second = generate(300, seed=11), generate(300, seed=11)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])


def test_different_seeds_give_different_images() -> None:
    """Two seeds give different factors and no identical image pair."""
    (images_a, factors_a), (images_b, factors_b) = generate(100, 1), generate(100, 2)
    assert not np.array_equal(factors_a, factors_b)
    assert not {image.tobytes() for image in images_a} & {
        image.tobytes() for image in images_b
    }


def test_a_shorter_run_is_a_prefix_of_a_longer_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first n images of a seed do not depend on count or on the batch size."""
    images, factors = generate(50, seed=4)
    monkeypatch.setattr(shapes, "_CHUNK", 7)
    longer_images, longer_factors = generate(120, seed=4)
    np.testing.assert_array_equal(longer_factors[:50], factors)
    np.testing.assert_array_equal(longer_images[:50], images)


def test_factors_lie_in_their_documented_ranges(
    sample: tuple[np.ndarray, np.ndarray],
) -> None:
    """Shape is a whole class index, hue in [0, 1), the rest in factor_ranges."""
    _, factors = sample
    ranges = factor_ranges(SIDE)
    shape = factors[:, 0]
    np.testing.assert_array_equal(shape, np.round(shape))
    assert set(shape.astype(int)) == set(range(len(SHAPE_NAMES)))
    for column, name in enumerate(FACTORS):
        low, high = ranges[name]
        assert low <= factors[:, column].min() and factors[:, column].max() <= high
    assert factors[:, 4].max() < 1.0
    assert ranges["size"] == pytest.approx((8.0, 14.4))


def test_no_pixel_of_the_outer_ring_is_lit(
    sample: tuple[np.ndarray, np.ndarray],
) -> None:
    """Sampled shapes leave the image's 1-pixel frame black."""
    images, _ = sample
    assert images[:, [0, -1]].max() == 0
    assert images[:, :, [0, -1]].max() == 0


def test_the_largest_shapes_at_the_range_corners_stay_inside() -> None:
    """Every shape at its largest, at each corner of the x-y range, keeps the frame
    black while reaching the next ring (so the ranges are not needlessly small)."""
    ranges = factor_ranges(SIDE)
    size = ranges["size"][1]
    rows = [
        (shape, x, y, size, 0.5)
        for shape in range(len(SHAPE_NAMES))
        for x in ranges["x"]
        for y in ranges["y"]
    ]
    images = render(np.array(rows, dtype=np.float32), SIDE)
    assert images[:, [0, -1]].max() == 0 and images[:, :, [0, -1]].max() == 0
    for ring in (images[:, 1], images[:, -2], images[:, :, 1], images[:, :, -2]):
        assert ring.max() > 0


def test_the_centre_of_mass_is_at_x_y(sample: tuple[np.ndarray, np.ndarray]) -> None:
    """The lit pixels' centre of mass is within 0.25 px of the (x, y) factors."""
    images, factors = sample
    x, y = _centre_of_mass(_coverage(images))
    assert np.hypot(x - factors[:, 1], y - factors[:, 2]).max() < 0.25


def test_the_lit_area_matches_the_shape_and_size(
    sample: tuple[np.ndarray, np.ndarray],
) -> None:
    """Lit area is pi/4, 1, 1/2 and 5/9 of size**2 for circle, square, triangle,
    cross, within 4%."""
    images, factors = sample
    area = _coverage(images).sum(axis=(1, 2))
    expected = np.array(AREA_FRACTION)[factors[:, 0].astype(int)] * factors[:, 3] ** 2
    np.testing.assert_allclose(area, expected, rtol=0.04)
    assert AREA_FRACTION == pytest.approx((math.pi / 4, 1.0, 0.5, 5 / 9))


@pytest.mark.parametrize("shape", range(len(SHAPE_NAMES)))
def test_the_lit_area_grows_with_size(shape: int) -> None:
    """At a fixed place and colour, a larger size lights strictly more."""
    sizes = np.linspace(*factor_ranges(SIDE)["size"], 12)
    rows = [(shape, 16.0, 17.0, size, 0.3) for size in sizes]
    area = _coverage(render(np.array(rows, dtype=np.float32))).sum(axis=(1, 2))
    assert (np.diff(area) > 0).all()


def test_lit_pixels_have_the_factor_hue(sample: tuple[np.ndarray, np.ndarray]) -> None:
    """The mean colour of fully covered pixels has the hue factor (within 0.01)."""
    images, factors = sample
    for image, row in zip(images[:300], factors[:300], strict=True):
        inside = image.max(axis=2) == round(255 * VALUE)
        red, green, blue = image[inside].mean(axis=0) / 255
        hue, saturation, value = colorsys.rgb_to_hsv(red, green, blue)
        distance = abs(hue - row[4])
        assert min(distance, 1 - distance) < 0.01
        assert saturation == pytest.approx(shapes.SATURATION, abs=0.01)
        assert value == pytest.approx(VALUE, abs=0.01)


def test_hue_to_rgb_matches_colorsys() -> None:
    """The vectorised HSV conversion agrees with colorsys over the hue circle."""
    hues = np.linspace(0, 1, 241, endpoint=False, dtype=np.float32)
    expected = [
        colorsys.hsv_to_rgb(float(hue), shapes.SATURATION, VALUE) for hue in hues
    ]
    np.testing.assert_allclose(hue_to_rgb(hues), expected, atol=1e-5)


def test_the_class_index_matches_the_shape_drawn(
    sample: tuple[np.ndarray, np.ndarray],
) -> None:
    """A classifier reading only pixels gives each image's shape factor."""
    images, factors = sample
    np.testing.assert_array_equal(
        _classify(_coverage(images)), factors[:, 0].astype(int)
    )


def test_train_and_test_share_no_seed_and_no_image() -> None:
    """The splits use distinct seeds, and no test image appears in training."""
    data = load_shapes(seed=3, n_train=600, n_test=200)
    train_seed, test_seed = split_seeds(3)
    assert train_seed != test_seed
    np.testing.assert_array_equal(data.x_test, generate(200, test_seed)[0])
    train = {image.tobytes() for image in data.x_train}
    assert not train & {image.tobytes() for image in data.x_test}


def test_split_seeds_never_repeat_across_seeds() -> None:
    """Every (seed, split) pair has its own generator seed."""
    seeds = [seed for base in range(1000) for seed in split_seeds(base)]
    assert len(set(seeds)) == len(seeds)


def test_load_shapes_gives_the_data_set_layout() -> None:
    """Labels are uint8 shape indices equal to factor 0; names and sizes as asked."""
    data = load_shapes(seed=1, n_train=40, n_test=30)
    assert data.x_train.shape == (40, SIDE, SIDE, 3) and data.x_train.dtype == np.uint8
    assert data.x_test.shape == (30, SIDE, SIDE, 3)
    assert data.y_train.dtype == np.uint8 and data.y_test.dtype == np.uint8
    np.testing.assert_array_equal(data.y_test, data.factors_test[:, 0])
    np.testing.assert_array_equal(data.y_train, data.factors_train[:, 0])
    assert data.factors_test.shape == (30, 5)
    assert data.factors_test.dtype == np.float32
    assert data.class_names == SHAPE_NAMES == ("circle", "square", "triangle", "cross")


def test_the_arrays_save_and_load_without_pickle() -> None:
    """ShapesData.arrays() round-trips through np.savez with allow_pickle=False."""
    data = load_shapes(seed=2, n_train=20, n_test=10)
    buffer = io.BytesIO()
    np.savez(buffer, **data.arrays())
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as loaded:
        np.testing.assert_array_equal(loaded["factors_test"], data.factors_test)
        np.testing.assert_array_equal(loaded["x_train"], data.x_train)
        assert tuple(loaded["class_names"]) == SHAPE_NAMES
        assert tuple(loaded["factor_names"]) == FACTORS


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: generate(-1, 0), "count"),
        (lambda: generate(5, -1), "seed"),
        (lambda: generate(5, 0, side=4), "side"),
        (lambda: split_seeds(-2), "seed"),
        (lambda: render(np.zeros((2, 4), np.float32)), r"\(n, 5\)"),
        (lambda: render(np.array([[4, 16, 16, 10, 0.5]], np.float32)), "shape"),
        (lambda: render(np.array([[0.5, 16, 16, 10, 0.5]], np.float32)), "shape"),
        (lambda: render(np.array([[0, 16, 16, 0, 0.5]], np.float32)), "size"),
        (lambda: render(np.array([[0, np.nan, 16, 10, 0.5]], np.float32)), "finite"),
    ],
)
def test_bad_arguments_are_refused(call: Callable[[], object], message: str) -> None:
    """Negative counts or seeds, tiny sides and malformed factors raise ValueError."""
    with pytest.raises(ValueError, match=message):
        call()


def test_a_small_set_is_quick() -> None:
    """200 images take well under a second (about 10 ms on a 2-core machine)."""
    start = time.perf_counter()
    generate(200, seed=9)
    assert time.perf_counter() - start < 1.0


def test_sample_factors_is_what_generate_draws() -> None:
    """generate renders exactly the factors sample_factors returns for its seed."""
    images, factors = generate(25, seed=8)
    np.testing.assert_array_equal(factors, sample_factors(25, 8))
    np.testing.assert_array_equal(images, render(factors))
