"""Model folders on disk: the format, atomic publishing, listing and loading.

A model folder holds:

- ``config.json``: format version, model config, training config, data source,
  and (``data``) the class names, factor names and training-image count;
- ``metrics.json``: final test-set figures and per-epoch history;
- ``model.weights.h5``: the weights, stored once (Keras format, read by h5py);
- ``latents.npz``: the encoded test set (``mean``, ``log_var``, ``labels``),
  the test images (``images``, uint8 ``(n, height, width, channels)``; older
  folders ``(n, 784)``) unless they are the official test set shipped in
  :mod:`vaeapp.data.testsets`, and the test images' true factors (``factors``,
  float32 ``(n, k)``) where the data has them (the shapes set);
- ``snapshots.npz``: a small manifold grid after chosen epochs (optional).

A new folder is written under a temporary name in the same parent and renamed
into place, so no reader ever sees a half-written model, and an existing
folder is never replaced. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from vaeapp.core import safe_json
from vaeapp.core.config import (
    EPOCHS_MAX,
    LOG_VAR_LIMIT,
    MEAN_LIMIT,
    MNIST_SHAPE,
    ModelConfig,
    RefineConfig,
    TrainConfig,
    check_dataset_name,
    settings,
)
from vaeapp.core.latent import extent
from vaeapp.core.safe_json import finite_number, number_or_none, whole_number
from vaeapp.data.sources import CLASS_NAMES, MAX_CLASSES, MAX_FACTORS, MAX_NAME_CHARS
from vaeapp.data.testsets import shipped_images
from vaeapp.inference.numpy_vae import NumpyVAE, load_numpy_vae
from vaeapp.inference.refinement import refine
from vaeapp.inference.weights_file import WeightsError

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"
WEIGHTS_FILE = "model.weights.h5"
LATENTS_FILE = "latents.npz"
SNAPSHOTS_FILE = "snapshots.npz"
IMAGES_KEY = "images"  # optional test images inside LATENTS_FILE
FACTORS_KEY = "factors"  # optional true factors of the test images, likewise
DATA_KEY = "data"  # config.json's description of the data (optional)
REFINE_KEY = "refine"  # config.json's per-image refinement of q (optional)
# Every key config.json may hold (config_document writes them).
CONFIG_KEYS = frozenset(
    {"format_version", "model", "train", "data_source", DATA_KEY, REFINE_KEY}
)
MAX_IMAGES_COUNT = 10**9
REQUIRED_FILES = (CONFIG_FILE, METRICS_FILE, WEIGHTS_FILE, LATENTS_FILE)
MODEL_FILES = (*REQUIRED_FILES, SNAPSHOTS_FILE)
TEMP_PREFIX = ".tmp-"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# A metrics.json of EPOCHS_MAX epochs is about 3.6 MB (under 512 bytes a row).
MAX_JSON_BYTES = 6_000_000
MAX_SOURCE_CHARS = 500  # config.json's data_source
MAX_ROW_KEYS = 32  # figures in one history row
# Every folder the app writes must fit, as a zip, under the upload limit
# (vaeapp.store.upload.UPLOAD_LIMIT_MB): files together at most this many bytes.
MAX_FOLDER_BYTES = 48_000_000
# What an .npz's arrays may unpack to, together, before np.load allocates them.
MAX_NPZ_BYTES = 50_000_000
MAX_SNAPSHOT_COUNT = 100
GRID_MAX = next(s.high for f, s in settings(TrainConfig) if f.name == "grid_size")

PACKAGE_DIR = Path(__file__).resolve().parents[1]
PRETRAINED_DIR = PACKAGE_DIR / "pretrained"
HOME_ENV = "VAEAPP_HOME"


class ModelFolderError(ValueError):
    """A model folder is missing files or holds invalid content.

    The message is kept to one line of at most 300 characters: it is shown in
    the page, and may quote a crafted file.
    """

    def __init__(self, message: Any = "") -> None:
        super().__init__(safe_json.one_line(message))


def trained_dir() -> Path:
    """Where models trained by users are written: ``$VAEAPP_HOME`` or ``./runs``."""
    return Path(os.environ.get(HOME_ENV) or Path.cwd() / "runs").expanduser().resolve()


def check_name(name: str) -> str:
    """Return ``name`` if it is a safe folder name, else raise ValueError."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name) or ".." in name:
        raise ValueError(
            f"model name {name!r} is not allowed: use 1 to 64 letters, digits, "
            "'_', '-' or '.', starting with a letter or digit"
        )
    return name


@dataclass(frozen=True)
class ModelRecord:
    """What the config and metrics files of one model folder say.

    ``class_names`` name the labels (None: the data had no labels; for MNIST
    and Fashion-MNIST folders written before they were recorded, the official
    names); ``factor_names`` name the columns of the test images' factors
    (None: none stored); ``train_images`` is how many images were trained on
    (0: not recorded); ``refine`` how q(z|x) is refined per image after the
    encoder (None: the encoder's q as it is).
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
class Listing:
    """One folder found while listing: a usable record, or why it is unusable."""

    path: Path
    record: ModelRecord | None
    problem: str | None

    @property
    def name(self) -> str:
        return self.path.name


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
    """

    record: ModelRecord
    vae: NumpyVAE
    latent_mean: np.ndarray
    latent_log_var: np.ndarray
    labels: np.ndarray
    snapshots: dict[int, np.ndarray]
    test_images: np.ndarray | None = None
    factors: np.ndarray | None = None

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


def _read_json(path: Path) -> Any:
    try:
        return safe_json.read(path, MAX_JSON_BYTES)
    except FileNotFoundError:
        raise ModelFolderError(f"{path.name} is missing") from None
    except OSError as error:
        raise ModelFolderError(f"{path.name} is unreadable: {error}") from None
    except safe_json.JSONRefused as error:
        raise ModelFolderError(str(error)) from None


def _guarded(folder: Path, read: Callable[[Path], Any]) -> Any:
    """``read(folder)``, with any error but ModelFolderError made one.

    The checks name what is wrong in a folder; this last guard makes sure a
    file they did not foresee still makes the folder unusable, never the page
    (a folder removed while it is read also ends here).
    """
    try:
        return read(folder)
    except ModelFolderError:
        raise
    except Exception as error:  # noqa: BLE001 - see the docstring
        raise ModelFolderError(
            f"unreadable ({type(error).__name__}: {error})"
        ) from None


def read_record(folder: Path) -> ModelRecord:
    """Read and check a folder's config and metrics (cheap: no arrays).

    Raises ModelFolderError, and nothing else, for any content of the folder.
    """
    return _guarded(Path(folder), _read_record)


def _read_record(folder: Path) -> ModelRecord:
    missing = [f for f in REQUIRED_FILES if not (folder / f).is_file()]
    if missing:
        raise ModelFolderError(f"missing {', '.join(missing)}")
    config = _read_json(folder / CONFIG_FILE)
    metrics = _read_json(folder / METRICS_FILE)
    if not isinstance(config, dict) or not whole_number(
        config.get("format_version"), FORMAT_VERSION, FORMAT_VERSION
    ):
        raise ModelFolderError(f"{CONFIG_FILE} is not format version {FORMAT_VERSION}")
    try:
        model = ModelConfig.from_dict(config.get("model"))
        train = TrainConfig.from_dict(config.get("train"))
    except ValueError as error:
        raise ModelFolderError(f"{CONFIG_FILE}: {error}") from None
    source = config.get("data_source")
    if (
        not isinstance(source, str)
        or len(source) > MAX_SOURCE_CHARS
        or not source.isprintable()
    ):
        raise ModelFolderError(
            f"{CONFIG_FILE} lacks a data_source of at most {MAX_SOURCE_CHARS} "
            "printable characters"
        )
    class_names, factor_names, count = _read_data_info(config.get(DATA_KEY), train)
    return ModelRecord(
        folder,
        model,
        train,
        source,
        check_metrics(metrics),
        class_names,
        factor_names,
        count,
        _read_refine(config.get(REFINE_KEY), model),
    )


def _read_refine(value: Any, model: ModelConfig) -> RefineConfig | None:
    """config.json's ``refine`` section (absent or null: None); raises
    ModelFolderError for a malformed one or one on a conv decoder."""
    if value is None:
        return None
    try:
        refine = RefineConfig.from_dict(value)
    except ValueError as error:
        raise ModelFolderError(f"{CONFIG_FILE}: {error}") from None
    if model.architecture != "dense":
        raise ModelFolderError(
            f"{CONFIG_FILE}: {REFINE_KEY} needs a dense decoder; this model is "
            f"{model.architecture}"
        )
    return refine


def _names(value: Any, key: str, limit: int) -> tuple[str, ...] | None:
    """A list of 1 to ``limit`` printable names of at most MAX_NAME_CHARS, or
    None for null; raises ModelFolderError."""
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or not 1 <= len(value) <= limit
        or not all(
            isinstance(v, str) and 0 < len(v) <= MAX_NAME_CHARS and v.isprintable()
            for v in value
        )
    ):
        raise ModelFolderError(
            f"{CONFIG_FILE}: {key} must list 1 to {limit} printable names of at "
            f"most {MAX_NAME_CHARS} characters"
        )
    return tuple(value)


def _read_data_info(
    info: Any, train: TrainConfig
) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None, int]:
    """``(class_names, factor_names, train_images)`` from config.json's
    ``data`` (absent in older folders: the official names, if any)."""
    if info is None:
        return CLASS_NAMES.get(train.dataset), None, 0
    if not isinstance(info, dict) or set(info) - {
        "class_names",
        "factor_names",
        "train_images",
    }:
        raise ModelFolderError(
            f"{CONFIG_FILE}: {DATA_KEY} must be an object with class_names, "
            "factor_names and train_images"
        )
    count = info.get("train_images", 0)
    if not whole_number(count, 0, MAX_IMAGES_COUNT):
        raise ModelFolderError(
            f"{CONFIG_FILE}: train_images must be a whole number 0 to "
            f"{MAX_IMAGES_COUNT}"
        )
    return (
        _names(info.get("class_names"), "class_names", MAX_CLASSES),
        _names(info.get("factor_names"), "factor_names", MAX_FACTORS),
        int(count),
    )


def check_metrics(metrics: Any) -> dict[str, Any]:
    """``metrics.json``'s content if every figure in it can be shown and plotted.

    Top-level figures must be finite numbers (``test_neg_elbo`` is required);
    ``history`` a list of at most EPOCHS_MAX rows, each an object of at most
    MAX_ROW_KEYS figures that are finite numbers or None, its ``epoch`` (if
    any) a whole number 1 to EPOCHS_MAX. Raises ModelFolderError.
    """
    if not isinstance(metrics, dict):
        raise ModelFolderError(f"{METRICS_FILE} is not a JSON object")
    if not finite_number(metrics.get("test_neg_elbo")):
        raise ModelFolderError(f"{METRICS_FILE} lacks a finite test_neg_elbo")
    for key, value in metrics.items():
        if key != "history" and not finite_number(value):
            raise ModelFolderError(
                f"{METRICS_FILE}: {safe_json.one_line(key, 40)!r} is not a "
                "finite number"
            )
    history = metrics.get("history", [])
    if not isinstance(history, list) or len(history) > EPOCHS_MAX:
        raise ModelFolderError(
            f"{METRICS_FILE} history must be a list of at most {EPOCHS_MAX} epochs"
        )
    for row in history:
        if (
            not isinstance(row, dict)
            or len(row) > MAX_ROW_KEYS
            or not all(number_or_none(value) for value in row.values())
            or ("epoch" in row and not whole_number(row["epoch"], 1, EPOCHS_MAX))
        ):
            raise ModelFolderError(
                f"{METRICS_FILE} history rows must be objects of at most "
                f"{MAX_ROW_KEYS} finite numbers (or null), epoch a whole number "
                f"1 to {EPOCHS_MAX}"
            )
    return metrics


def load_model(folder: Path) -> LoadedModel:
    """Load everything the app needs from ``folder``, checking every array.

    Raises ModelFolderError, and nothing else, for any content of the folder.
    """
    return _guarded(Path(folder), _load_model)


def _load_model(folder: Path) -> LoadedModel:
    record = _read_record(folder)
    try:
        vae = load_numpy_vae(folder / WEIGHTS_FILE, record.model)
    except WeightsError as error:
        raise ModelFolderError(str(error)) from None
    mean, log_var, labels, images, factors = _read_latents(
        folder / LATENTS_FILE, record
    )
    if images is None and record.model.image_shape == MNIST_SHAPE:
        images = shipped_images(record.dataset, labels)
    snapshots = _read_snapshots(folder / SNAPSHOTS_FILE, record.model)
    shared = [mean, log_var, labels, *snapshots.values()]
    shared += [a for a in (images, factors) if a is not None]
    for array in shared:
        array.flags.writeable = False  # shared across sessions: never mutated
    return LoadedModel(record, vae, mean, log_var, labels, snapshots, images, factors)


def check_npz(path: Path) -> None:
    """Bound what ``np.load`` will allocate from ``path``: the sizes its members
    and their .npy headers declare. Raises ModelFolderError."""
    try:
        with zipfile.ZipFile(path) as npz:
            total = 0
            for info in npz.infolist():
                if info.flag_bits & 0x1:
                    raise ModelFolderError(f"{path.name} holds an encrypted member")
                total += info.file_size
                if total > MAX_NPZ_BYTES:
                    raise ModelFolderError(
                        f"{path.name} unpacks to more than {MAX_NPZ_BYTES / 1e6:.0f} MB"
                    )
                if info.filename.endswith(".npy"):
                    with npz.open(info) as member:
                        _check_npy_header(member, info, path.name)
    except ModelFolderError:
        raise
    except (zipfile.BadZipFile, ValueError, EOFError, OSError) as error:
        raise ModelFolderError(
            f"{path.name} is not a valid .npz file: {safe_json.one_line(error, 120)}"
        ) from None
    except Exception as error:  # noqa: BLE001 - zlib.error and kin: corrupt data
        raise ModelFolderError(f"{path.name} is corrupt: {error}") from None


def _check_npy_header(member: Any, info: zipfile.ZipInfo, npz_name: str) -> None:
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(member)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(member)
    else:
        raise ModelFolderError(f"{npz_name}: {info.filename} has npy version {version}")
    if dtype.hasobject:
        raise ModelFolderError(f"{npz_name}: {info.filename} holds Python objects")
    if math.prod(shape) * dtype.itemsize > info.file_size:
        raise ModelFolderError(
            f"{npz_name}: {info.filename} declares more data than it holds"
        )


def _load_npz(path: Path, keys: tuple[str, ...], optional: tuple[str, ...] = ()):
    check_npz(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            found = {k: npz[k] for k in keys}
            found.update({k: npz[k] for k in optional if k in npz.files})
    except (OSError, ValueError, KeyError, EOFError, MemoryError) as error:
        raise ModelFolderError(f"{path.name} is unreadable: {error}") from None
    return found


def _read_latents(
    path: Path, record: ModelRecord
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """``(mean, log_var, labels, images or None, factors or None)`` from
    ``latents.npz``; images flat ``(n, h * w * c)``."""
    config = record.model
    arrays = _load_npz(path, ("mean", "log_var", "labels"), (IMAGES_KEY, FACTORS_KEY))
    mean, log_var, labels = arrays["mean"], arrays["log_var"], arrays["labels"]
    images = arrays.get(IMAGES_KEY)
    n = labels.shape[0] if labels.ndim == 1 else -1
    shape = (n, config.latent_dim)
    if n <= 0 or mean.shape != shape or log_var.shape != shape:
        raise ModelFolderError(
            f"{path.name} arrays do not match latent size {config.latent_dim}"
        )
    if mean.dtype.kind != "f" or log_var.dtype.kind != "f":
        raise ModelFolderError(f"{path.name} mean and log_var must be floats")
    with np.errstate(over="ignore"):  # beyond float32 becomes inf: refused below
        mean, log_var = mean.astype(np.float32), log_var.astype(np.float32)
    if not (np.isfinite(mean).all() and np.isfinite(log_var).all()):
        raise ModelFolderError(f"{path.name} holds NaN or infinite values")
    if np.abs(mean).max() > MEAN_LIMIT or np.abs(log_var).max() > LOG_VAR_LIMIT:
        raise ModelFolderError(
            f"{path.name} means must lie within +-{MEAN_LIMIT:g} and log-variances "
            f"within +-{LOG_VAR_LIMIT:g}"
        )
    classes = len(record.class_names) if record.class_names else 1
    if labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() >= classes:
        raise ModelFolderError(
            f"{path.name} labels must be integers 0 to {classes - 1}"
        )
    if images is not None:
        flat = (n, config.n_pixels)
        if images.dtype != np.uint8 or images.shape not in (
            flat,
            (n, *config.image_shape),
        ):
            raise ModelFolderError(
                f"{path.name} images must be uint8 ({n}, "
                f"{', '.join(map(str, config.image_shape))}), "
                f"got {images.dtype} {images.shape}"
            )
        images = images.reshape(flat)
    return mean, log_var, labels.astype(np.uint8), images, _factors(arrays, record, n)


def _factors(
    arrays: dict[str, np.ndarray], record: ModelRecord, n: int
) -> np.ndarray | None:
    """The test images' factors, checked against config.json's factor_names."""
    factors = arrays.get(FACTORS_KEY)
    names = record.factor_names
    if factors is None:
        return None
    if names is None or factors.shape != (n, len(names)) or factors.dtype.kind != "f":
        raise ModelFolderError(
            f"{LATENTS_FILE} factors must be floats, one row per test image and "
            f"one column per factor name in {CONFIG_FILE}"
        )
    with np.errstate(over="ignore"):
        factors = factors.astype(np.float32)
    if not np.isfinite(factors).all():
        raise ModelFolderError(f"{LATENTS_FILE} factors must be finite")
    return factors


def images_as_bytes(x: np.ndarray) -> np.ndarray:
    """Pixels in [0, 1] float -> uint8 0..255 of the same shape, as stored."""
    return np.rint(np.clip(np.asarray(x, np.float32), 0.0, 1.0) * 255).astype(np.uint8)


def _read_snapshots(path: Path, config: ModelConfig) -> dict[int, np.ndarray]:
    """Epoch -> grid ``(g * h, g * w)`` uint8 (grey) or ``(g * h, g * w, c)``."""
    if not path.is_file():
        return {}
    arrays = _load_npz(path, ("epochs", "grids"))
    epochs, grids = arrays["epochs"], arrays["grids"]
    height, width, channels = config.image_shape
    dims = 3 if channels == 1 else 4
    if epochs.ndim != 1 or grids.ndim != dims or grids.shape[0] != epochs.shape[0]:
        raise ModelFolderError(f"{path.name} has inconsistent shapes")
    if epochs.shape[0] > MAX_SNAPSHOT_COUNT:
        raise ModelFolderError(f"{path.name} holds over {MAX_SNAPSHOT_COUNT} grids")
    if epochs.dtype.kind not in "iu" or (
        epochs.size
        and (epochs.min() < 1 or epochs.max() > EPOCHS_MAX)
        or np.unique(epochs).size != epochs.size
    ):
        raise ModelFolderError(
            f"{path.name} epochs must be distinct whole numbers 1 to {EPOCHS_MAX}"
        )
    g = grids.shape[1] // height
    shape = (g * height, g * width) + ((channels,) if channels > 1 else ())
    if grids.dtype != np.uint8 or grids.shape[1:] != shape or not 1 <= g <= GRID_MAX:
        size = f"g*{height}, g*{width}" + (f", {channels}" if channels > 1 else "")
        raise ModelFolderError(
            f"{path.name} grids must be uint8 (n, {size}) with g 1 to {GRID_MAX}"
        )
    return {int(e): g for e, g in zip(epochs.tolist(), grids, strict=True)}


def write_atomic(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write ``path`` atomically: ``write(handle)`` fills a temporary file in
    the same folder, which is then synced and renamed over ``path``."""
    fd, tmp = tempfile.mkstemp(
        prefix=f"{TEMP_PREFIX}{os.getpid()}-", suffix=path.suffix, dir=path.parent
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o644)
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (:func:`write_atomic`)."""
    text = json.dumps(data, indent=1, allow_nan=False)
    write_atomic(path, lambda handle: handle.write(text.encode("utf-8")))


def write_posterior(
    folder: Path,
    mean: np.ndarray,
    log_var: np.ndarray,
    metrics: dict[str, Any],
    refine: RefineConfig | None,
) -> None:
    """Give ``folder`` a new q(z|x) for its test images: ``mean`` and
    ``log_var`` ``(n_test, latent_dim)`` in latents.npz (its other arrays
    kept), ``metrics`` as metrics.json and ``refine`` as config.json's
    section. Each file is replaced atomically, config.json last; the folder is
    checked with :func:`load_model` afterwards."""
    folder = Path(folder)
    path = folder / LATENTS_FILE
    check_npz(path)
    with np.load(path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    arrays["mean"] = np.asarray(mean, np.float32)
    arrays["log_var"] = np.asarray(log_var, np.float32)
    write_atomic(path, lambda handle: np.savez_compressed(handle, **arrays))
    write_json(folder / METRICS_FILE, check_metrics(metrics))
    config = _read_json(folder / CONFIG_FILE)
    config.pop(REFINE_KEY, None)
    if refine is not None:
        config[REFINE_KEY] = refine.to_dict()
    write_json(folder / CONFIG_FILE, config)
    load_model(folder)


def config_document(
    model: ModelConfig,
    train: TrainConfig,
    data_source: str,
    data: dict[str, Any] | None = None,
) -> dict:
    """config.json's content; ``data`` (optional) holds ``class_names``,
    ``factor_names`` (lists or None) and ``train_images``
    (:func:`write_posterior` adds ``refine``)."""
    document = {
        "format_version": FORMAT_VERSION,
        "model": model.to_dict(),
        "train": train.to_dict(),
        "data_source": data_source,
    }
    if data is not None:
        document[DATA_KEY] = data
    return document


def publish(
    parent: Path,
    name: str,
    write_files: Callable[[Path], None],
) -> Path:
    """Write a model folder atomically and return its final path.

    ``write_files(tmp)`` fills a fresh temporary folder beside the destination;
    the folder is then checked with :func:`check_folder_size` and
    :func:`load_model` and renamed to
    ``parent/name``. If anything fails, or a folder of that name exists, the
    temporary folder is removed and nothing else on disk has changed.
    """
    check_name(name)
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    final = parent / name
    if final.exists():
        raise FileExistsError(f"a model named {name!r} already exists in {parent}")
    tmp = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", dir=parent))
    try:
        write_files(tmp)
        for child in tmp.iterdir():
            with open(child, "rb") as handle:
                os.fsync(handle.fileno())
        check_folder_size(tmp)
        load_model(tmp)
        tmp.chmod(0o755)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync_dir(parent)
    return final


def folder_bytes(folder: Path) -> int:
    """The size of the files directly in ``folder`` (what its zip holds)."""
    return sum(
        child.stat().st_size for child in Path(folder).iterdir() if child.is_file()
    )


def check_folder_size(folder: Path) -> None:
    """Raise ModelFolderError if ``folder`` is over MAX_FOLDER_BYTES: it could
    not be uploaded again after a download."""
    size = folder_bytes(folder)
    if size > MAX_FOLDER_BYTES:
        raise ModelFolderError(
            f"the model's files take {size / 1e6:.1f} MB; the limit is "
            f"{MAX_FOLDER_BYTES / 1e6:.0f} MB, so that its zip can be uploaded again"
        )


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_temps(parent: Path) -> list[Path]:
    """Delete temporary folders left by writers that no longer run.

    Temporary names carry the writer's process id; those of live processes are
    kept. Returns what was removed.
    """
    removed = []
    parent = Path(parent)
    if not parent.is_dir():
        return removed
    for child in parent.iterdir():
        if not child.name.startswith(TEMP_PREFIX):
            continue
        match = re.match(rf"{re.escape(TEMP_PREFIX)}(\d+)-", child.name)
        if match and pid_alive(int(match.group(1))):
            continue
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
        removed.append(child)
    return removed


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (pids of 0 or less never count)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def list_models(*parents: Path) -> list[Listing]:
    """Every model folder under ``parents``, usable or not, sorted by name
    within each parent."""
    found = []
    for parent in parents:
        try:
            children = sorted(Path(parent).iterdir())
        except OSError:  # missing, not a folder, or unreadable
            continue
        for child in children:
            if child.name.startswith(".") or not child.is_dir():
                continue
            try:
                found.append(Listing(child, read_record(child), None))
            except ModelFolderError as error:
                if os.path.lexists(child):  # else removed meanwhile: not listed
                    found.append(Listing(child, None, str(error)))
    return found


# The --model option's help, the same for every command (find_model).
MODEL_HELP = (
    "a model's name as the page lists it (shipped, or trained or uploaded into "
    f"${HOME_ENV}, default ./runs) or a model folder's path"
)


def model_named(name: str) -> Path | None:
    """The folder a model's name stands for, or None when no model has it.

    Shipped names are protected: a shipped model's name always means the
    shipped folder (vaeapp/pretrained/), even when the trained-models folder
    (:func:`trained_dir`) holds a folder of that name too (``train --name``
    or an uploaded ``mnist-deep.zip`` can make one); that one is reached by
    its path. Any other name means the folder of that name in
    :func:`trained_dir`, the folders the page lists after the shipped ones.
    Raises ValueError for a name :func:`check_name` refuses, so that no name
    can reach outside those two folders.
    """
    check_name(name)
    for parent in (PRETRAINED_DIR, trained_dir()):
        if (parent / name).is_dir():
            return parent / name
    return None


def find_model(name_or_path: str, names_only: bool = False) -> Path:
    """The model folder ``name_or_path`` stands for: every command's
    ``--model`` and the page's ``?model=`` use this one lookup.

    A shipped model's name (``mnist-deep``), then the name of a folder in the
    trained-models folder (:func:`model_named`), then, unless ``names_only``
    (the page: a URL must not open folders by path), the path of a folder.
    Raises ValueError naming the places searched when nothing is found.
    """
    if not isinstance(name_or_path, str) or not name_or_path.strip():
        raise ValueError("the model must be a shipped model's name or a folder path")
    if names_only or NAME_PATTERN.match(name_or_path):
        found = _named_or_none(name_or_path, names_only)
        if found is not None:
            return found
    folder = Path(name_or_path).expanduser()
    if not names_only and folder.is_dir():
        return folder
    raise ValueError(_not_found(name_or_path, names_only))


def _named_or_none(name: str, names_only: bool) -> Path | None:
    """:func:`model_named`; a name it refuses counts as not found, unless the
    caller takes names only (then the refusal is the message)."""
    try:
        return model_named(name)
    except ValueError:
        if names_only:
            raise
        return None


def _not_found(name_or_path: str, names_only: bool) -> str:
    """Why ``name_or_path`` named no model, and where it was looked for (the
    page's message names no server folder)."""
    shipped = ", ".join(sorted(p.name for p in PRETRAINED_DIR.iterdir() if p.is_dir()))
    if names_only:
        return (
            f"no model {name_or_path!r}: neither a shipped model ({shipped}) nor "
            "a model trained or uploaded on this server has that name"
        )
    return (
        f"no model {name_or_path!r}: searched the shipped models ({shipped}), "
        f"the trained-models folder {trained_dir()} (${HOME_ENV}, or ./runs "
        "without it) and the path itself; give a name from either or a model "
        "folder's path"
    )


def best_by_validation(records: list[ModelRecord]) -> ModelRecord:
    """The record with the lowest validation negative ELBO; records without a
    validation figure come after every one that has it, ordered by their test
    figure. Models are chosen on held-out training images, not on the test
    set (docs/training.md)."""
    if not records:
        raise ValueError("there are no models to choose from")

    def rank(record: ModelRecord) -> tuple[bool, float]:
        held_out = record.val_neg_elbo
        figure = record.test_neg_elbo if held_out is None else held_out
        return (held_out is None, figure)

    return min(records, key=rank)


def best_pretrained(dataset: str = "mnist") -> Path:
    """The shipped 2-D model of ``dataset`` that :func:`best_by_validation`
    picks (the page opens on it: a 2-D map is the space itself, no
    projection), or of any latent size when the data set has no 2-D model."""
    check_dataset_name(dataset)
    usable = [
        item.record
        for item in list_models(PRETRAINED_DIR)
        if item.record is not None and item.record.dataset == dataset
    ]
    usable = [r for r in usable if r.model.latent_dim == 2] or usable
    if not usable:
        raise ModelFolderError(
            f"no usable pretrained {dataset} model in {PRETRAINED_DIR}"
        )
    return best_by_validation(usable).path


# The held-out figure of each epoch, with its label: the validation split's
# (runs since it was held out of the training images), else the test set's
# (model folders written before).
HELD_OUT_CURVES = (
    ("val_neg_elbo", "validation −ELBO"),
    ("test_neg_elbo", "test −ELBO"),
)


def held_out_curve(history: list[Any]) -> tuple[str, str] | None:
    """``(key, label)`` of the held-out figure the rows of ``history`` carry,
    or None when they carry none (a run without a validation split)."""
    first = history[0] if history and isinstance(history[0], dict) else {}
    return next(((k, label) for k, label in HELD_OUT_CURVES if k in first), None)


# metrics.json keys of the figures python -m vaeapp.evaluate adds.
IWAE_KEY, IWAE_SE_KEY = "test_iwae_nll", "test_iwae_se"
IWAE_SAMPLES_KEY, IWAE_IMAGES_KEY = "iwae_samples", "iwae_images"
KNN_KEY = "knn5_accuracy"
