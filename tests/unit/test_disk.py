"""Bounded disk: how many models the models folder keeps, which go first,
which never go, and the free-space floor for new models."""

from __future__ import annotations

import io
import json
import os
import shutil
import zipfile
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest

from devtools.weights import write_random_weights
from vaeapp.core.config import ModelConfig, TrainConfig
from vaeapp.jobs import runner as jobs
from vaeapp.store import disk, writing
from vaeapp.store.format import (
    CONFIG_FILE,
    MODEL_FILES,
    PRETRAINED_DIR,
    TEMP_PREFIX,
    ModelFolderError,
)
from vaeapp.store.listing import best_pretrained, list_models
from vaeapp.store.reading import load_model
from vaeapp.store.size import folder_bytes_bound
from vaeapp.store.upload import MAX_ZIP_BYTES, UploadError, import_model_zip

HOUR = 3600.0
NOW = 1_000_000_000.0
Usage = namedtuple("Usage", "total used free")


def _model(root: Path, name: str, used_hours_ago: float) -> Path:
    """A model-like folder whose last use was ``used_hours_ago``."""
    folder = root / name
    folder.mkdir(parents=True)
    (folder / CONFIG_FILE).write_text("{}")
    stamp = NOW - used_hours_ago * HOUR
    os.utime(folder, (stamp, stamp))
    return folder


def _names(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if not p.name.startswith("."))


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A models folder with five models used 5, 4, 3, 2 and 1 hours ago."""
    monkeypatch.setenv(disk.MAX_MODELS_ENV, "3")
    monkeypatch.setenv(disk.KEEP_USED_ENV, "30")
    folder = tmp_path / "models"
    for age in (5, 4, 3, 2, 1):
        _model(folder, f"m{age}", age)
    return folder


def test_make_room_removes_the_least_recently_used_first(root: Path) -> None:
    """Over VAEAPP_MAX_MODELS, the oldest-used models go, oldest first."""
    assert disk.make_room(root, now=NOW) == ["m5", "m4", "m3"]
    assert _names(root) == ["m1", "m2"]
    assert not [p for p in root.iterdir() if p.name.startswith(TEMP_PREFIX)]


def test_make_room_for_nothing_new_keeps_the_maximum(root: Path) -> None:
    """adding=0 (after an upload is published) trims to exactly the maximum."""
    assert disk.make_room(root, adding=0, now=NOW) == ["m5", "m4"]


def test_a_use_marker_makes_an_old_model_recent(root: Path) -> None:
    """mark_used records a use that eviction honours across processes."""
    disk.mark_used(root / "m5", now=NOW - 0.5 * HOUR)
    assert disk.make_room(root, now=NOW) == ["m4", "m3", "m2"]


def test_mark_used_writes_at_most_once_a_minute(root: Path) -> None:
    """A second mark within a minute leaves the marker's time as it was."""
    disk.mark_used(root / "m1", now=NOW)
    disk.mark_used(root / "m1", now=NOW + 30)
    assert disk.last_used(root / "m1") == NOW
    disk.mark_used(root / "m1", now=NOW + 61)
    assert disk.last_used(root / "m1") == NOW + 61


def test_kept_and_recently_used_models_are_never_removed(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Models live sessions show (keep) and those used within the window stay,
    even if fewer than asked can then go."""
    monkeypatch.setenv(disk.KEEP_USED_ENV, str(4 * 60 + 30))  # 4.5 hours
    assert disk.make_room(root, keep=[root / "m5"], now=NOW) == []
    assert _names(root) == ["m1", "m2", "m3", "m4", "m5"]


def test_folders_not_written_by_the_app_are_never_removed(root: Path) -> None:
    """A folder holding anything but model files is neither counted nor removed."""
    (root / "m5" / "notes.txt").write_text("mine")
    (root / "m4" / CONFIG_FILE).unlink()  # an empty folder: not a model either
    assert disk.make_room(root, now=NOW) == ["m3"]
    assert (root / "m5" / "notes.txt").exists() and (root / "m4").is_dir()


def test_shipped_models_are_never_removed(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a maximum of 1, make_room on vaeapp/pretrained removes nothing."""
    monkeypatch.setenv(disk.MAX_MODELS_ENV, "1")
    monkeypatch.setenv(disk.KEEP_USED_ENV, "0")
    before = _names(PRETRAINED_DIR)
    assert disk.make_room(PRETRAINED_DIR, now=NOW + 1e9) == []
    assert _names(PRETRAINED_DIR) == before
    disk.mark_used(best_pretrained())
    assert not (PRETRAINED_DIR / disk.USED_DIR).exists()


def test_a_malformed_setting_is_reported_before_anything_is_removed(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """VAEAPP_MAX_MODELS that is no whole number >= 1 raises ValueError naming it."""
    monkeypatch.setenv(disk.MAX_MODELS_ENV, "0")
    with pytest.raises(ValueError, match="VAEAPP_MAX_MODELS"):
        disk.make_room(root, now=NOW)
    assert len(_names(root)) == 5


def test_a_reader_of_an_evicted_folder_gets_a_folder_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model removed by make_room reads as ModelFolderError, and is no longer
    listed; the rename aside leaves no temporary folder."""
    monkeypatch.setenv(disk.MAX_MODELS_ENV, "1")
    monkeypatch.setenv(disk.KEEP_USED_ENV, "0")
    old = Path(shutil.copytree(best_pretrained(), tmp_path / "old"))
    assert disk.make_room(tmp_path, adding=1) == ["old"]
    with pytest.raises(ModelFolderError):
        load_model(old)
    assert list_models(tmp_path) == []


def _usage(free_mb: float):
    return lambda path: Usage(10**12, 10**12 - int(free_mb * 1e6), int(free_mb * 1e6))


def test_free_space_below_the_floor_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """check_free_space raises LowDiskSpace (an OSError) below VAEAPP_MIN_FREE_MB
    and passes at or above it, also for a models folder not yet created."""
    monkeypatch.setenv(disk.MIN_FREE_ENV, "500")
    monkeypatch.setattr(disk.shutil, "disk_usage", _usage(499))
    with pytest.raises(disk.LowDiskSpace, match="499 MB free.*at least 500 MB"):
        disk.check_free_space(tmp_path / "not-yet")
    monkeypatch.setattr(disk.shutil, "disk_usage", _usage(500))
    disk.check_free_space(tmp_path / "not-yet")


def test_an_upload_is_refused_below_the_floor_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """import_model_zip refuses with UploadError when the disk is nearly full."""
    monkeypatch.setattr(disk.shutil, "disk_usage", _usage(10))
    with pytest.raises(UploadError, match="disk is nearly full"):
        import_model_zip(_shipped_zip(best_pretrained()), tmp_path / "m", "x")
    assert not (tmp_path / "m" / "x").exists()


def test_start_job_is_refused_below_the_floor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """start_job raises LowDiskSpace and starts nothing when the disk is nearly full."""
    monkeypatch.setattr(disk.shutil, "disk_usage", _usage(10))
    root = tmp_path / "models"
    with pytest.raises(disk.LowDiskSpace):
        jobs.start_job(ModelConfig(hidden=(16,)), TrainConfig(epochs=1), "r", root)
    assert jobs.current_job(root) is None
    assert not (root / jobs.LOCK_NAME).exists()


def test_an_upload_makes_room_after_it_is_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the maximum, a valid upload removes the least recently used model
    (never itself); an invalid one removes nothing."""
    monkeypatch.setenv(disk.MAX_MODELS_ENV, "2")
    monkeypatch.setenv(disk.KEEP_USED_ENV, "30")
    parent = tmp_path / "models"
    _model(parent, "older", 5)
    _model(parent, "newer", 1)
    with pytest.raises(UploadError):
        import_model_zip(b"PK\x05\x06" + b"\0" * 18, parent, "bad")
    assert _names(parent) == ["newer", "older"]
    import_model_zip(_shipped_zip(best_pretrained()), parent, "fresh")
    assert _names(parent) == ["fresh", "newer"]


# Every folder the app can write can be uploaded again.


def _shipped_zip(folder: Path) -> bytes:
    """``folder`` zipped as the page's download button does
    (vaeapp.ui.tools.download.model_zip)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in MODEL_FILES:
            if (folder / name).is_file():
                archive.write(folder / name, arcname=name)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "folder", sorted(PRETRAINED_DIR.iterdir()), ids=lambda p: p.name
)
def test_every_shipped_model_zipped_by_the_page_imports(
    folder: Path, tmp_path: Path
) -> None:
    """Each shipped folder, zipped like the download button, is under the upload
    limit and imports as the same model."""
    data = _shipped_zip(folder)
    assert len(data) <= MAX_ZIP_BYTES
    path = import_model_zip(data, tmp_path / "models", folder.name)
    assert load_model(path).record.metrics == load_model(folder).record.metrics


def test_folder_bound_is_above_every_shipped_folder() -> None:
    """folder_bytes_bound is an upper bound of what the shipped folders take."""
    for item in list_models(PRETRAINED_DIR):
        record = item.record
        bound = folder_bytes_bound(record.model, record.train)
        assert writing.folder_bytes(item.path) <= bound


def test_publish_writes_a_folder_as_large_as_its_model_needs(tmp_path: Path) -> None:
    """Training's folders have no size cap: one over the upload limit is
    published whole."""

    def copy(folder: Path) -> None:
        for child in best_pretrained().iterdir():
            shutil.copyfile(child, folder / child.name)
        document = json.loads((folder / "config.json").read_text())
        document["model"]["hidden"] = [4096, 2048]  # 23 million weights
        document["train"]["weights_dtype"] = "float32"
        (folder / "config.json").write_text(json.dumps(document))
        model = ModelConfig.from_dict(document["model"])
        rng = np.random.default_rng(0)
        write_random_weights(folder / "model.weights.h5", model, rng, 0.0)

    path = writing.publish(tmp_path, "big", copy)
    assert writing.folder_bytes(path) > MAX_ZIP_BYTES


def test_an_upload_over_the_administrators_cap_is_refused(tmp_path: Path) -> None:
    """import_model_zip takes the server's cap (Streamlit's maxUploadSize):
    a shipped model's zip that fits 50 MB is refused at 1 MB."""
    data = _shipped_zip(best_pretrained())
    assert len(data) > 1 << 20
    with pytest.raises(UploadError, match="the limit is 1 MB"):
        import_model_zip(data, tmp_path / "m", "x", limit_mb=1)
    assert not (tmp_path / "m" / "x").exists()


def test_a_models_facts_state_its_folder_size() -> None:
    """The facts name the folder's size in MB, as large as its model needs."""
    from vaeapp.explore.facts import model_facts

    folder = best_pretrained()
    size = writing.folder_bytes(folder)
    assert model_facts(load_model(folder))["Folder size"] == f"{size / 1e6:.1f} MB"
