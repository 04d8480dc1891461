"""A streamed .npz's memory does not grow with the file: peak resident memory
of reading every training image of 1,000 and of 8,000 images of 64x64x3."""

from __future__ import annotations

import pytest

from bench.npz_memory import measure, write_set

# 7,000 more images are 86 MB of uint8 and 344 MB as float32, which the
# in-memory reader held at least once. Streamed, the held-out test set is the
# same 1,000 images in both files and one batch of 500 (25 MB of float32) or
# one cache chunk (at most 1,024 images, 13 MB) is held at a time in both;
# what grows is the row numbers and labels (9 bytes an image: 63 kB).
# 40 MB leaves room for the allocator's run-to-run noise.
GROWTH_BOUND_MB = 40


@pytest.mark.parametrize("compressed", [False, True])
def test_peak_memory_of_a_streamed_npz_does_not_grow_with_the_file(
    tmp_path, compressed
):
    """Eight times the images: the peak grows by less than GROWTH_BOUND_MB."""
    peaks = []
    for count in (1_000, 8_000):
        path = write_set(tmp_path / f"{count}.npz", count, compressed, plain=True)
        found = measure(path, tmp_path / "cache")
        assert found["images"] == count
        peaks.append(found["peak_mb"])
    assert peaks[1] - peaks[0] < GROWTH_BOUND_MB, peaks
