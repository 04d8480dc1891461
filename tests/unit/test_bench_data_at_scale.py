"""bench.data_at_scale's generator: the PNG folder it trains on."""

from __future__ import annotations

import numpy as np
from PIL import Image

from bench.data_at_scale import generate_folder
from vaeapp.data.shapes import SHAPE_NAMES


def test_generate_writes_each_image_once_into_its_shapes_folder(tmp_path):
    """20 PNGs of 16x16x3 spread over the shape folders; a second call keeps
    them and writes none."""
    assert generate_folder(tmp_path, 20, 16, workers=1) == 20
    files = sorted(tmp_path.glob("*/*.png"))
    assert len(files) == 20
    assert {f.parent.name for f in files} <= set(SHAPE_NAMES)
    with Image.open(files[0]) as image:
        assert np.asarray(image).shape == (16, 16, 3)
    assert generate_folder(tmp_path, 20, 16, workers=1) == 0
