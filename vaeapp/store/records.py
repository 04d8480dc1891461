"""What a model folder holds once read: its record, and the loaded model.

:class:`ModelRecord` is what config.json and metrics.json say
(:func:`vaeapp.store.reading.read_record`); :class:`LoadedModel` adds the
NumPy VAE and the encoded test set (:func:`vaeapp.store.reading.load_model`),
what the page, the explorer and the commands work on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vaeapp.core.config import ModelConfig, RefineConfig, TrainConfig
from vaeapp.core.latent import extent
from vaeapp.core.safe_json import finite_number
from vaeapp.data.folder_cache import StreamedImages
from vaeapp.inference.numpy_vae import NumpyVAE
from vaeapp.inference.refinement import refine


@dataclass(frozen=True)
class ModelRecord:
    """What the config and metrics files of one model folder say.

    ``class_names`` name the labels (None: the data had no labels; for MNIST
    and Fashion-MNIST folders written before they were recorded, the official
    names); ``factor_names`` name the columns of the test images' factors
    (None: none stored); ``train_images`` is how many images were trained on
    (0: not recorded); ``refine`` how q(z|x) is refined per image after the
    encoder (None: the encoder's q as it is); ``image_cache`` the name of the
    image folder's cache its held-out images are in (None: not recorded).
    """

    path: Path
    model: ModelConfig
    train: TrainConfig
    data_source: str
    metrics: dict[str, Any]
    class_names: tuple[str, ...] | None = None
    factor_names: tuple[str, ...] | None = None
    train_images: int = 0
    refine: RefineConfig | None = None
    image_cache: str | None = None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def dataset(self) -> str:
        return self.train.dataset

    @property
    def test_neg_elbo(self) -> float:
        return float(self.metrics["test_neg_elbo"])

    @property
    def val_neg_elbo(self) -> float | None:
        """The validation split's negative ELBO, None for folders without one."""
        value = self.metrics.get("val_neg_elbo")
        return float(value) if finite_number(value) else None

    @property
    def epochs_trained(self) -> int:
        return len(self.metrics.get("history", []))


@dataclass(frozen=True)
class LoadedModel:
    """A model ready for the app: its record, NumPy VAE and encoded test set.

    ``latent_mean`` and ``latent_log_var`` are ``(n_test, latent_dim)`` float32,
    ``labels`` ``(n_test,)`` uint8 (all 0 when ``class_names`` is None);
    ``snapshots`` maps epoch -> ``(g * h, g * w)`` uint8 grids for grey
    images, ``(g * h, g * w, c)`` for colour ones; ``test_images`` is
    ``(n_test, h * w * c)`` uint8 (0..255, flat like the model's input), or
    None for a folder saved without them; ``factors`` is ``(n_test, k)``
    float32, the test images' true factors named by ``factor_names``, or None.

    ``figures`` maps ``"elbo"`` (the negative ELBO), ``"recon"`` and ``"kl"``
    to float32 ``(n_test,)`` nats per test image (empty for folders without
    them: :mod:`vaeapp.inference.figures`); ``planes`` maps a method
    (``"umap"``) to the test set's stored 2-D plane, float32 ``(n_test, 2)``
    (empty when none is stored); ``file_names`` ``(n_test,)`` unicode are the
    test images' file names (own image folders), or None.

    ``test_images`` may hold only the first of the ``n_test`` held-out images
    (a map of up to a million points stores the pixels of at most
    MAX_TEST_IMAGES); ``image_cache`` reads every one of them from the data
    set's cache on this server (:mod:`vaeapp.store.held_out`), or is None and
    ``image_cache_note`` says why. :meth:`point_images` gives the pixels of
    any of the first :attr:`image_count` points from either.
    """

    record: ModelRecord
    vae: NumpyVAE
    latent_mean: np.ndarray
    latent_log_var: np.ndarray
    labels: np.ndarray
    snapshots: dict[int, np.ndarray]
    test_images: np.ndarray | None = None
    factors: np.ndarray | None = None
    figures: dict[str, np.ndarray] = field(default_factory=dict)
    planes: dict[str, np.ndarray] = field(default_factory=dict)
    file_names: np.ndarray | None = None
    image_cache: StreamedImages | None = None
    image_cache_note: str | None = None

    @property
    def image_count(self) -> int:
        """How many of the held-out images (the first ones) this server has
        the pixels of: all of them with the data cache, else those stored."""
        if self.image_cache is not None:
            return len(self.image_cache)
        return 0 if self.test_images is None else self.test_images.shape[0]

    @property
    def stored_all_images(self) -> bool:
        """Whether the folder stores the pixels of every held-out image."""
        stored = self.test_images
        return stored is not None and stored.shape[0] == self.labels.shape[0]

    def point_images(self, index: np.ndarray | slice) -> np.ndarray:
        """The pixels of the held-out images ``index`` (positions, or a
        slice, within the first :attr:`image_count`): ``(k, h * w * c)``
        uint8, from the folder's stored images where it holds them, else from
        the data cache. Raises IndexError beyond :attr:`image_count`."""
        count = self.image_count
        rows = np.arange(count)[index] if isinstance(index, slice) else index
        rows = np.asarray(rows, np.int64).reshape(-1)
        if rows.size and (rows.min() < -count or rows.max() >= count):
            raise IndexError(f"held-out images 0 to {count - 1} have pixels here")
        rows = rows % max(count, 1)
        stored = 0 if self.test_images is None else self.test_images.shape[0]
        if self.test_images is not None and (
            self.image_cache is None or (rows.size and rows.max() < stored)
        ):
            return self.test_images[rows]
        if self.image_cache is None:
            raise IndexError("no held-out image has pixels here")
        pixels = self.image_cache.uint8(rows)
        return pixels.reshape(rows.size, -1)

    @property
    def class_names(self) -> tuple[str, ...] | None:
        return self.record.class_names

    @property
    def factor_names(self) -> tuple[str, ...] | None:
        return self.record.factor_names

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return self.record.model.image_shape

    @property
    def z_limit(self) -> float:
        """The half-width of the range z may take in every view of this model:
        the prior's +-4, or wider where its encoded test set lies further out
        (:func:`vaeapp.core.latent.extent` of ``latent_mean``)."""
        return extent(self.latent_mean)

    def encode(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Images in [0, 1], flat ``(n, n_pixels)`` or ``(n, h, w, c)`` ->
        q(z|x) as this folder defines it, ``(mean, log_var)`` each ``(n,
        latent_dim)``: the encoder's, refined per image when the folder says so
        (:mod:`vaeapp.inference.refinement`), as its map of the test set was made."""
        mean, log_var = self.vae.encode(x)
        if self.record.refine is None:
            return mean, log_var
        return refine(self.vae, x, mean, log_var, self.record.refine)
