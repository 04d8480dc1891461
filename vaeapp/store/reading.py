"""Reading a model folder, checking every file and array on the way.

:func:`read_record` reads the config and metrics (cheap: no arrays),
:func:`load_model` everything the app needs; both raise ModelFolderError, and
nothing else, for any content of a folder, so that a crafted or damaged folder
makes that model unusable, never the page. The files are those of
:mod:`vaeapp.store.format`. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import math
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
)
from vaeapp.core.safe_json import finite_number, number_or_none, whole_number
from vaeapp.data.array_files import NpyVersionError, read_npy_header
from vaeapp.data.sources import CLASS_NAMES, MAX_CLASSES, MAX_FACTORS, MAX_NAME_CHARS
from vaeapp.data.testsets import shipped_images
from vaeapp.inference.numpy_vae import load_numpy_vae
from vaeapp.inference.weights_file import WeightsError
from vaeapp.store.format import (
    CACHE_ROWS_KEY,
    CONFIG_FILE,
    DATA_KEY,
    FACTORS_KEY,
    FIGURE_KEYS,
    FIGURES_FILE,
    FORMAT_VERSION,
    GRID_MAX,
    IMAGE_CACHE_KEY,
    IMAGES_KEY,
    LATENTS_FILE,
    MAX_FIGURE,
    MAX_FILE_NAME_CHARS,
    MAX_IMAGES_COUNT,
    MAX_JSON_BYTES,
    MAX_MAP_POINTS,
    MAX_NPZ_BYTES,
    MAX_PLANE_COORD,
    MAX_ROW_KEYS,
    MAX_SNAPSHOT_COUNT,
    MAX_SOURCE_CHARS,
    METRICS_FILE,
    NAMES_KEY,
    PLANE_KEYS,
    PLANES_FILE,
    REFINE_KEY,
    REQUIRED_FILES,
    SNAPSHOTS_FILE,
    WEIGHTS_FILE,
    ModelFolderError,
)
from vaeapp.store.held_out import check_cache_name, check_cache_rows, open_cache
from vaeapp.store.records import LoadedModel, ModelRecord


def read_json(path: Path) -> Any:
    """A model folder's JSON file (at most MAX_JSON_BYTES); raises
    ModelFolderError when it is missing, unreadable or refused."""
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
    config = read_json(folder / CONFIG_FILE)
    metrics = read_json(folder / METRICS_FILE)
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
    info = config.get(DATA_KEY)
    class_names, factor_names, count = _read_data_info(info, train)
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
        _read_image_cache(info),
    )


def _read_image_cache(info: Any) -> str | None:
    """config.json's ``data`` -> ``image_cache`` (absent or null: None)."""
    name = info.get(IMAGE_CACHE_KEY) if isinstance(info, dict) else None
    if name is None:
        return None
    try:
        return check_cache_name(name)
    except ValueError as error:
        raise ModelFolderError(f"{CONFIG_FILE}: {error}") from None


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
        IMAGE_CACHE_KEY,
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
    mean, log_var, labels, images, factors, names, rows = _read_latents(
        folder / LATENTS_FILE, record
    )
    if images is None and record.model.image_shape == MNIST_SHAPE:
        images = shipped_images(record.dataset, labels)
    cache, note = None, None
    if record.image_cache is not None and rows is not None:
        cache, note = open_cache(record.image_cache, rows, record.model.image_shape)
    snapshots = _read_snapshots(folder / SNAPSHOTS_FILE, record.model)
    n = labels.shape[0]
    figures = _read_columns(folder / FIGURES_FILE, FIGURE_KEYS, (n,), MAX_FIGURE)
    planes = _read_columns(folder / PLANES_FILE, PLANE_KEYS, (n, 2), MAX_PLANE_COORD)
    shared = [mean, log_var, labels, *snapshots.values()]
    shared += [*figures.values(), *planes.values()]
    shared += [a for a in (images, factors, names) if a is not None]
    for array in shared:
        array.flags.writeable = False  # shared across sessions: never mutated
    return LoadedModel(
        record,
        vae,
        mean,
        log_var,
        labels,
        snapshots,
        images,
        factors,
        figures=figures,
        planes=planes,
        file_names=names,
        image_cache=cache,
        image_cache_note=note,
    )


def check_npz(path: Path, max_bytes: int = MAX_NPZ_BYTES) -> None:
    """Bound what ``np.load`` will allocate from ``path``: the sizes its members
    and their .npy headers declare, at most ``max_bytes`` together. Raises
    ModelFolderError."""
    try:
        with zipfile.ZipFile(path) as npz:
            total = 0
            for info in npz.infolist():
                if info.flag_bits & 0x1:
                    raise ModelFolderError(f"{path.name} holds an encrypted member")
                total += info.file_size
                if total > max_bytes:
                    raise ModelFolderError(
                        f"{path.name} unpacks to more than {max_bytes / 1e6:.0f} MB"
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
    """Refuse the .npy ``member`` unless its header (:func:`read_npy_header`)
    declares plain data of at most the bytes it holds; numpy's errors for what
    is no .npy header go up to :func:`check_npz`."""
    try:
        shape, dtype, _ = read_npy_header(member)
    except NpyVersionError as error:
        raise ModelFolderError(
            f"{npz_name}: {info.filename} has npy version {error.version}"
        ) from None
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


def _read_latents(path: Path, record: ModelRecord) -> tuple[Any, ...]:
    """``(mean, log_var, labels, images or None, factors or None, file names
    or None, cache rows or None)`` from ``latents.npz``; images flat ``(k, h
    * w * c)``, the first k of the n test images."""
    config = record.model
    arrays = _load_npz(
        path,
        ("mean", "log_var", "labels"),
        (IMAGES_KEY, FACTORS_KEY, NAMES_KEY, CACHE_ROWS_KEY),
    )
    mean, log_var, labels = arrays["mean"], arrays["log_var"], arrays["labels"]
    images = arrays.get(IMAGES_KEY)
    n = labels.shape[0] if labels.ndim == 1 else -1
    if n > MAX_MAP_POINTS:
        raise ModelFolderError(
            f"{path.name} holds {n:,} test images; at most {MAX_MAP_POINTS:,}"
        )
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
        # The first k <= n test images (a big map stores the pixels of some).
        k = images.shape[0] if images.ndim and images.shape[0] <= n else -1
        flat = (k, config.n_pixels)
        if (
            k < 1
            or images.dtype != np.uint8
            or images.shape not in (flat, (k, *config.image_shape))
        ):
            raise ModelFolderError(
                f"{path.name} images must be uint8 (k, "
                f"{', '.join(map(str, config.image_shape))}) with k 1 to {n}, "
                f"got {images.dtype} {images.shape}"
            )
        images = images.reshape(flat)
    rows = arrays.get(CACHE_ROWS_KEY)
    if rows is not None:
        try:
            rows = check_cache_rows(rows, n)
        except ValueError as error:
            raise ModelFolderError(f"{path.name}: {error}") from None
    return (
        mean,
        log_var,
        labels.astype(np.uint8 if classes <= 256 else np.uint16),  # 1,000 classes
        images,
        _factors(arrays, record, n),
        _file_names(arrays.get(NAMES_KEY), n),
        rows,
    )


def _file_names(names: np.ndarray | None, n: int) -> np.ndarray | None:
    """The test images' file names ``(n,)`` unicode, checked: each 1 to
    MAX_FILE_NAME_CHARS printable characters without a path separator."""
    if names is None:
        return None
    if (
        names.shape != (n,)
        or names.dtype.kind != "U"
        or names.dtype.itemsize // 4 > MAX_FILE_NAME_CHARS
        or not all(
            name and name.isprintable() and "/" not in name and "\\" not in name
            for name in names.tolist()
        )
    ):
        raise ModelFolderError(
            f"{LATENTS_FILE} names must be one file name per test image, 1 to "
            f"{MAX_FILE_NAME_CHARS} printable characters without '/' or '\\'"
        )
    return names


def _read_columns(
    path: Path, keys: tuple[str, ...], shape: tuple[int, ...], limit: float
) -> dict[str, np.ndarray]:
    """The arrays of the optional .npz ``path`` under ``keys`` (any subset;
    none when the file is absent), each float of ``shape``, finite and within
    +-``limit``, made float32. Raises ModelFolderError for any other key or
    content."""
    if not path.is_file():
        return {}
    check_npz(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            unknown = sorted(set(npz.files) - set(keys))
            if unknown:
                raise ModelFolderError(
                    f"{path.name} may hold only {', '.join(keys)}; it holds "
                    f"{safe_json.one_line(unknown[0], 40)!r}"
                )
            arrays = {key: npz[key] for key in keys if key in npz.files}
    except (OSError, ValueError, KeyError, EOFError, MemoryError) as error:
        if isinstance(error, ModelFolderError):
            raise
        raise ModelFolderError(f"{path.name} is unreadable: {error}") from None
    checked = {}
    for key, array in arrays.items():
        if array.shape != shape or array.dtype.kind != "f":
            raise ModelFolderError(
                f"{path.name}: {key} must be floats of shape {shape}, got "
                f"{array.dtype} {array.shape}"
            )
        with np.errstate(over="ignore"):
            array = array.astype(np.float32)
        if not np.isfinite(array).all() or np.abs(array).max() > limit:
            raise ModelFolderError(
                f"{path.name}: {key} must be finite values within +-{limit:g}"
            )
        checked[key] = array
    return checked


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
