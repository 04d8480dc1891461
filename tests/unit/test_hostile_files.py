"""Hostile files: crafted JSON and arrays in model folders, zips, progress and
lock files are refused cleanly (the module's error type or None), never with
another exception, and a crafted folder is listed as unusable with a reason."""

from __future__ import annotations

import fcntl
import io
import json
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaeapp.core import safe_json
from vaeapp.core.config import ModelConfig, TrainConfig
from vaeapp.jobs import runner as jobs
from vaeapp.jobs.progress import CURVE_KEYS, read_progress
from vaeapp.store.format import (
    CONFIG_FILE,
    LATENTS_FILE,
    METRICS_FILE,
    MODEL_FILES,
    PRETRAINED_DIR,
    SNAPSHOTS_FILE,
    ModelFolderError,
)
from vaeapp.store.listing import best_pretrained, list_models
from vaeapp.store.reading import load_model, read_record
from vaeapp.store.upload import UploadError, import_model_zip

SHIPPED = best_pretrained("mnist")
HUGE_INT = "1" + "0" * 5000  # over Python's int-string conversion limit
BIG_INT = "1" + "0" * 400  # converts to int, but overflows a float
# Literal JSON texts Python's json module would parse into trouble.
NASTY_LITERALS = [
    "NaN",
    "Infinity",
    "-Infinity",
    "1e999",
    "-1e999",
    HUGE_INT,
    BIG_INT,
    "-" + BIG_INT,
    "[" * 5000 + "]" * 5000,
    "[" * 500 + "]" * 500,
    '"' + "x" * 100_000 + '"',
    "true",
    "null",
    "{}",
    "[]",
    '"256"',
]
FAST = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _json_values() -> st.SearchStrategy[Any]:
    """Valid JSON values of every type, including numbers at their limits."""
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=10**300, max_value=10**310),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from([0, -1, 1, 2, 32, 4096, 10**6, 2**31, 1e308, -1e-308]),
        st.text(max_size=20),
    )
    return st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=12,
    )


def _literal() -> st.SearchStrategy[str]:
    """A JSON text: a hostile literal or the dump of a generated value."""
    return st.one_of(st.sampled_from(NASTY_LITERALS), _json_values().map(json.dumps))


def _with_field(document: dict, keys: tuple[str, ...], literal: str) -> str:
    """``document`` as JSON text with the field at ``keys`` set to ``literal``."""
    marker = "__HOSTILE_VALUE__"
    target = document
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = marker
    return json.dumps(document).replace(f'"{marker}"', literal)


def _fields(document: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path in ``document`` (dicts, and the first item of lists)."""
    found = []
    if isinstance(document, dict):
        for key, value in document.items():
            found.append((*prefix, key))
            found += _fields(value, (*prefix, key))
    elif isinstance(document, list) and document:
        found.append((*prefix, 0))
        found += _fields(document[0], (*prefix, 0))
    return found


def _shipped_json(name: str) -> dict:
    document = json.loads((SHIPPED / name).read_text())
    if name == METRICS_FILE:
        document["history"] = document["history"][:2]  # fast to parse
    return document


CONFIG_FIELDS = _fields(_shipped_json(CONFIG_FILE))
METRICS_FIELDS = _fields(_shipped_json(METRICS_FILE))


@pytest.fixture(scope="module")
def folder_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of a shipped model folder, its JSON files rewritten per example."""
    parent = tmp_path_factory.mktemp("hostile")
    return Path(shutil.copytree(SHIPPED, parent / "crafted"))


def _assert_clean_refusal_or_record(folder: Path) -> None:
    """read_record either works (and its figures plot) or says why, one line."""
    try:
        record = read_record(folder)
    except ModelFolderError as error:
        assert str(error) and "\n" not in str(error) and len(str(error)) <= 300
        (listing,) = [item for item in list_models(folder.parent)]
        assert listing.record is None and listing.problem == str(error)
        return
    assert safe_json.finite_number(record.test_neg_elbo)
    for row in record.metrics.get("history", []):
        assert all(safe_json.number_or_none(v) for v in row.values())


@FAST
@given(field=st.sampled_from(CONFIG_FIELDS), literal=_literal())
def test_any_value_in_any_config_field_is_refused_cleanly(
    folder_copy: Path, field: tuple, literal: str
) -> None:
    """A hostile value in any config.json field gives ModelFolderError or a
    valid record, never another exception."""
    text = _with_field(_shipped_json(CONFIG_FILE), field, literal)
    (folder_copy / CONFIG_FILE).write_text(text)
    (folder_copy / METRICS_FILE).write_text(json.dumps(_shipped_json(METRICS_FILE)))
    _assert_clean_refusal_or_record(folder_copy)


@FAST
@given(field=st.sampled_from(METRICS_FIELDS), literal=_literal())
def test_any_value_in_any_metrics_field_is_refused_cleanly(
    folder_copy: Path, field: tuple, literal: str
) -> None:
    """A hostile value in any metrics.json field gives ModelFolderError or a
    record whose figures are all finite numbers or None."""
    shutil.copyfile(SHIPPED / CONFIG_FILE, folder_copy / CONFIG_FILE)
    text = _with_field(_shipped_json(METRICS_FILE), field, literal)
    (folder_copy / METRICS_FILE).write_text(text)
    _assert_clean_refusal_or_record(folder_copy)


@FAST
@given(document=_literal())
def test_any_document_as_config_or_metrics_is_refused_cleanly(
    folder_copy: Path, document: str
) -> None:
    """A whole hostile document as config.json or metrics.json never raises
    anything but ModelFolderError."""
    for name in (CONFIG_FILE, METRICS_FILE):
        for other in (CONFIG_FILE, METRICS_FILE):
            shutil.copyfile(SHIPPED / other, folder_copy / other)
        (folder_copy / name).write_text(document)
        with pytest.raises(ModelFolderError):
            read_record(folder_copy)


@pytest.mark.parametrize(
    "field, literal, reason",
    [
        (("model", "beta"), HUGE_INT, "more than 30 digits"),
        (("model", "beta"), BIG_INT, "more than 30 digits"),
        (("model", "beta"), "1e999", "beyond any float"),
        (("model", "latent_dim"), "NaN", "holds NaN"),
        (("model", "hidden"), "[" * 5000 + "]" * 5000, "not valid JSON"),
        (("model", "hidden"), "[" * 40 + "]" * 40, "nests deeper"),
        (("model", "hidden"), '"256"', "hidden"),
        (("model", "latent_dim"), "true", "latent size"),
        (("train", "epochs"), "2.5", "epochs"),
        (("model",), "[]", "JSON object"),
        (("format_version",), "true", "format version"),
        (("data_source",), '"' + "x" * 100_000 + '"', "data_source"),
    ],
    ids=[
        "huge-int",
        "big-int",
        "1e999",
        "nan",
        "deep-5000",
        "deep-40",
        "string-for-list",
        "bool-for-int",
        "float-for-int",
        "list-for-dict",
        "bool-version",
        "long-source",
    ],
)
def test_a_shipped_folder_with_one_crafted_config_value_is_listed_unusable(
    tmp_path: Path, field: tuple, literal: str, reason: str
) -> None:
    """A good shipped folder with one crafted config value is listed as unusable,
    with the reason; the good folder beside it still lists."""
    crafted = Path(shutil.copytree(SHIPPED, tmp_path / "crafted"))
    good = Path(shutil.copytree(SHIPPED, tmp_path / "good"))
    text = _with_field(_shipped_json(CONFIG_FILE), field, literal)
    (crafted / CONFIG_FILE).write_text(text)
    listed = {item.name: item for item in list_models(tmp_path)}
    assert listed["crafted"].record is None
    assert reason in listed["crafted"].problem
    assert len(listed["crafted"].problem) <= 300
    assert listed["good"].record is not None
    assert load_model(good).record.name == "good"


@pytest.mark.parametrize(
    "metrics, reason",
    [
        ('{"test_neg_elbo": ' + BIG_INT + "}", "more than 30 digits"),
        ('{"test_neg_elbo": 1e999}', "beyond any float"),
        ('{"test_neg_elbo": "135"}', "finite test_neg_elbo"),
        ('{"test_neg_elbo": 1, "test_kl": "x"}', "not a finite number"),
        ('{"test_neg_elbo": 1, "history": {"epoch": 1}}', "history must be a list"),
        ('{"test_neg_elbo": 1, "history": [{"recon": "1"}]}', "history rows"),
        ('{"test_neg_elbo": 1, "history": [{"recon": [1]}]}', "history rows"),
        ('{"test_neg_elbo": 1, "history": [{"epoch": true}]}', "history rows"),
        ('{"test_neg_elbo": 1, "history": [{"epoch": 0}]}', "history rows"),
        ('{"test_neg_elbo": 1, "history": [[1, 2]]}', "history rows"),
    ],
    ids=[
        "big-int",
        "1e999",
        "string",
        "string-figure",
        "dict-history",
        "string-in-row",
        "list-in-row",
        "bool-epoch",
        "epoch-0",
        "list-row",
    ],
)
def test_a_shipped_folder_with_crafted_metrics_is_listed_unusable(
    tmp_path: Path, metrics: str, reason: str
) -> None:
    """Metrics whose figures could not be shown or plotted make the folder
    unusable with the reason."""
    crafted = Path(shutil.copytree(SHIPPED, tmp_path / "crafted"))
    (crafted / METRICS_FILE).write_text(metrics)
    (listing,) = list_models(tmp_path)
    assert listing.record is None and reason in listing.problem


def test_history_rows_with_null_figures_are_accepted(tmp_path: Path) -> None:
    """A history row may leave a figure out as null: the curve has a gap."""
    crafted = Path(shutil.copytree(SHIPPED, tmp_path / "crafted"))
    metrics = _shipped_json(METRICS_FILE)
    metrics["history"][0]["test_recon"] = None
    (crafted / METRICS_FILE).write_text(json.dumps(metrics))
    assert read_record(crafted).metrics["history"][0]["test_recon"] is None


def _npz(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _npz_of_npy_version_3(**arrays: np.ndarray) -> bytes:
    """:func:`_npz` with every member's .npy header saying format version 3.0."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for key, array in arrays.items():
            member = io.BytesIO()
            np.save(member, array)
            data = bytearray(member.getvalue())
            data[6] = 3  # the major version, right after the 6-byte magic string
            archive.writestr(f"{key}.npy", bytes(data))
    return buffer.getvalue()


N = 20
LABELS = (np.arange(N) % 10).astype(np.uint8)
GOOD = np.zeros((N, 2), np.float32)


@pytest.mark.parametrize(
    "name, content, reason",
    [
        (
            LATENTS_FILE,
            _npz(mean=np.full((N, 2), 1e300), log_var=GOOD, labels=LABELS),
            "NaN or infinite",  # finite as float64, infinite as float32
        ),
        (
            LATENTS_FILE,
            _npz(mean=np.full((N, 2), 1e6, np.float32), log_var=GOOD, labels=LABELS),
            "means must lie within",
        ),
        (
            LATENTS_FILE,
            _npz(mean=GOOD, log_var=np.full((N, 2), 500, np.float32), labels=LABELS),
            "log-variances",
        ),
        (
            LATENTS_FILE,
            _npz(mean=np.full((N, 2), "a"), log_var=GOOD, labels=LABELS),
            "must be floats",
        ),
        (
            LATENTS_FILE,
            _npz(mean=GOOD, log_var=GOOD, labels=LABELS.astype(np.float32)),
            "labels must be integers",
        ),
        (
            SNAPSHOTS_FILE,
            _npz(epochs=np.array([np.nan]), grids=np.zeros((1, 28, 28), np.uint8)),
            "epochs must be",
        ),
        (
            SNAPSHOTS_FILE,
            _npz(epochs=np.array([2**40]), grids=np.zeros((1, 28, 28), np.uint8)),
            "epochs must be",
        ),
        (
            SNAPSHOTS_FILE,
            _npz(epochs=np.array([1, 1]), grids=np.zeros((2, 28, 28), np.uint8)),
            "epochs must be",
        ),
        (
            SNAPSHOTS_FILE,
            _npz(epochs=np.array([1]), grids=np.zeros((1, 0, 0), np.uint8)),
            "grids must be",
        ),
        (SNAPSHOTS_FILE, b"PK\x03\x04 not really a zip", "not a valid .npz"),
        (
            LATENTS_FILE,
            _npz_of_npy_version_3(mean=GOOD, log_var=GOOD, labels=LABELS),
            r"latents.npz: mean.npy has npy version \(3, 0\)",
        ),
    ],
    ids=[
        "mean-beyond-float32",
        "mean-too-large",
        "log-var-too-large",
        "string-mean",
        "float-labels",
        "nan-epoch",
        "huge-epoch",
        "repeated-epoch",
        "empty-grid",
        "not-npz",
        "npy-version-3",
    ],
)
def test_crafted_arrays_make_the_folder_unusable(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    """Latents and snapshots of the wrong dtype, range or shape raise
    ModelFolderError with the reason."""
    crafted = Path(shutil.copytree(SHIPPED, tmp_path / "crafted"))
    (crafted / name).write_bytes(content)
    with pytest.raises(ModelFolderError, match=reason):
        load_model(crafted)


def test_a_folder_that_vanishes_while_loading_gives_a_folder_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder removed between reading its record and its arrays (an eviction
    in another process) gives ModelFolderError, not FileNotFoundError."""
    from vaeapp.store import reading

    crafted = Path(shutil.copytree(SHIPPED, tmp_path / "going"))
    read = reading._read_record

    def read_then_vanish(folder: Path):
        record = read(folder)
        shutil.rmtree(folder)
        return record

    monkeypatch.setattr(reading, "_read_record", read_then_vanish)
    with pytest.raises(ModelFolderError):
        load_model(crafted)


def test_list_models_skips_a_folder_removed_while_listing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder that vanishes mid-listing is left out, not listed as unusable."""
    from vaeapp.store import listing

    Path(shutil.copytree(SHIPPED, tmp_path / "going"))

    def vanish(folder: Path):
        shutil.rmtree(folder)
        raise ModelFolderError("missing config.json")

    monkeypatch.setattr(listing, "read_record", vanish)
    assert list_models(tmp_path) == []


# Uploads.


def _zip_with(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


SHIPPED_FILES = {
    name: (SHIPPED / name).read_bytes()
    for name in MODEL_FILES
    if name != SNAPSHOTS_FILE and (SHIPPED / name).is_file()
}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    name=st.sampled_from([CONFIG_FILE, METRICS_FILE]),
    field_index=st.integers(0, 1000),
    literal=_literal(),
)
def test_hostile_json_in_an_uploaded_zip_gives_an_upload_error(
    tmp_path_factory: pytest.TempPathFactory, name: str, field_index: int, literal: str
) -> None:
    """A zip of a shipped model with one hostile JSON value is imported or
    refused with UploadError, never another exception."""
    parent = tmp_path_factory.mktemp("uploads")
    fields = CONFIG_FIELDS if name == CONFIG_FILE else METRICS_FIELDS
    text = _with_field(_shipped_json(name), fields[field_index % len(fields)], literal)
    data = _zip_with({**SHIPPED_FILES, name: text.encode()})
    try:
        path = import_model_zip(data, parent, "crafted")
    except UploadError as error:
        assert "\n" not in str(error)
        assert not (parent / "crafted").exists()
    else:
        load_model(path)


# Progress files.


def _progress_document() -> dict:
    row = {"epoch": 1, "recon": 150.0, "kl": 5.0, "test_neg_elbo": 160.0}
    return {
        "state": "running",
        "epochs": 5,
        "epoch": 1,
        "fraction": 0.5,
        "history": [row],
        "message": "",
        "model_path": "",
        "pid": 42,
        "updated": 1.0,
    }


PROGRESS_FIELDS = _fields(_progress_document())


@FAST
@given(field=st.sampled_from(PROGRESS_FIELDS), literal=_literal())
def test_any_value_in_a_progress_file_reads_as_a_valid_progress_or_none(
    tmp_path_factory: pytest.TempPathFactory, field: tuple, literal: str
) -> None:
    """read_progress of a hostile progress file returns None or a Progress whose
    figures the page can show and plot; it never raises."""
    path = tmp_path_factory.mktemp("progress") / "p.json"
    path.write_text(_with_field(_progress_document(), field, literal))
    progress = read_progress(path)
    if progress is None:
        return
    assert 0 <= progress.fraction <= 1 and isinstance(progress.epochs, int)
    assert not isinstance(progress.epochs, bool)
    for row in progress.history:
        assert all(key in row for key in CURVE_KEYS)
        assert all(safe_json.number_or_none(v) for v in row.values())


@FAST
@given(document=_literal())
def test_any_document_as_a_progress_file_reads_as_none(
    tmp_path_factory: pytest.TempPathFactory, document: str
) -> None:
    """A progress file holding any other JSON document reads as None."""
    path = tmp_path_factory.mktemp("progress") / "p.json"
    path.write_text(document)
    assert read_progress(path) is None


# The training lock file.


def _lock_document() -> dict:
    return {
        "pid": os.getpid(),
        "name": "run-1",
        "progress": "/etc/passwd",
        "log": "/etc/shadow",
        "started": 1.0,
        "key_sha256": "0" * 64,
    }


LOCK_FIELDS = _fields(_lock_document())


@pytest.fixture(scope="module")
def held_lock(tmp_path_factory: pytest.TempPathFactory):
    """A models folder whose lock file this process holds (as a run would)."""
    root = tmp_path_factory.mktemp("locked")
    fd = os.open(root / jobs.LOCK_NAME, os.O_CREAT | os.O_RDWR, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    yield root
    os.close(fd)


@FAST
@given(field=st.sampled_from(LOCK_FIELDS), literal=_literal())
def test_any_value_in_a_held_lock_file_gives_a_valid_job_or_none(
    held_lock: Path, field: tuple, literal: str
) -> None:
    """current_job of a hostile lock description returns None or a Job with a
    real pid and paths inside the jobs folder; cancel_job never raises."""
    text = _with_field(_lock_document(), field, literal)
    (held_lock / jobs.LOCK_NAME).write_text(text)  # the flock stays on the inode
    job = jobs.current_job(held_lock)
    assert jobs.cancel_job("wrong key", held_lock) is False
    if job is None:
        return
    assert isinstance(job.pid, int) and 0 < job.pid < 2**31
    assert job.progress_path.parent == held_lock / jobs.JOBS_DIR
    assert job.log_path.parent == held_lock / jobs.JOBS_DIR
    assert job.log_tail() == ""


@FAST
@given(document=_literal())
def test_any_document_as_a_held_lock_file_gives_no_job(
    held_lock: Path, document: str
) -> None:
    """A held lock file holding any other JSON document means no job."""
    (held_lock / jobs.LOCK_NAME).write_text(document)
    assert jobs.current_job(held_lock) is None


# The loader itself.


@pytest.mark.parametrize(
    "text, reason",
    [
        ("NaN", "holds NaN"),
        ("[1, -Infinity]", "holds -Infinity"),
        ("1e400", "beyond any float"),
        (HUGE_INT, "more than 30 digits"),
        ("[" * 20 + "]" * 20, "nests deeper"),
        ("[" * 100_000, "not valid JSON"),
        ("{", "not valid JSON"),
    ],
    ids=["nan", "infinity", "1e400", "huge-int", "deep", "deeper", "broken"],
)
def test_safe_json_refuses_what_json_lets_through(text: str, reason: str) -> None:
    """safe_json.loads refuses non-finite numbers, huge ints, deep nesting."""
    with pytest.raises(safe_json.JSONRefused, match=reason):
        safe_json.loads(text, "doc.json", 10_000_000)


def test_safe_json_refuses_oversized_documents() -> None:
    """A document over the caller's byte limit is refused before parsing."""
    with pytest.raises(safe_json.JSONRefused, match="larger than 10 bytes"):
        safe_json.loads("[" + "1," * 10 + "1]", "doc.json", 10)


def test_config_from_dict_raises_only_value_errors_for_overflowing_numbers() -> None:
    """An int beyond any float where a float setting is expected is a ValueError."""
    with pytest.raises(ValueError, match="beta"):
        ModelConfig.from_dict({"hidden": [16], "latent_dim": 2, "beta": 10**400})
    with pytest.raises(ValueError, match="learning rate"):
        TrainConfig.from_dict({"learning_rate": -(10**400)})


def test_shipped_folders_pass_every_check() -> None:
    """Every shipped model folder is usable under the stricter checks."""
    listed = list_models(PRETRAINED_DIR)
    assert listed and all(item.record is not None for item in listed)
