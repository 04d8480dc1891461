"""Model folders: atomic publishing, listing, loading checks, names, temp cleanup."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from unit_helpers import tree_hashes

from vaeapp.store import listing, writing
from vaeapp.store.format import (
    CONFIG_FILE,
    LATENTS_FILE,
    METRICS_FILE,
    PRETRAINED_DIR,
    SNAPSHOTS_FILE,
    TEMP_PREFIX,
    WEIGHTS_FILE,
    ModelFolderError,
    check_name,
    trained_dir,
)
from vaeapp.store.listing import list_models
from vaeapp.store.reading import load_model, read_record
from vaeapp.store.writing import publish, remove_stale_temps, write_json


@pytest.fixture
def source(trained) -> Path:
    """A valid model folder (shared; copy it before changing anything)."""
    return trained((16,), 2).folder


def copy_model(source: Path, parent: Path, name: str) -> Path:
    parent.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copytree(source, parent / name))


def copier(source: Path):
    def write_files(folder: Path) -> None:
        for child in source.iterdir():
            shutil.copyfile(child, folder / child.name)

    return write_files


def temps(parent: Path) -> list[str]:
    return [p.name for p in parent.iterdir() if p.name.startswith(TEMP_PREFIX)]


def exited_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_publish_writes_a_loadable_folder(source, tmp_path):
    """publish() fills a temp folder, checks it and renames it to parent/name."""
    parent = tmp_path / "runs"
    final = publish(parent, "good", copier(source))
    assert final == parent / "good"
    assert tree_hashes(final) == tree_hashes(source)
    assert load_model(final).record.name == "good"
    assert temps(parent) == []
    assert final.stat().st_mode & 0o777 == 0o755


def test_publish_is_atomic_when_write_files_raises(source, tmp_path):
    """If write_files fails midway, neither the folder nor a .tmp-* folder remains."""
    parent = tmp_path / "runs"
    seen = []

    def write_half(folder: Path) -> None:
        seen.append(folder)
        shutil.copyfile(source / CONFIG_FILE, folder / CONFIG_FILE)
        shutil.copyfile(source / WEIGHTS_FILE, folder / WEIGHTS_FILE)
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        publish(parent, "half", write_half)
    assert seen and seen[0].parent == parent and seen[0].name.startswith(".tmp-")
    assert list(parent.iterdir()) == []


def test_publish_refuses_an_invalid_folder_and_cleans_up(source, tmp_path):
    """A written folder that fails load_model is not published and leaves no temp."""
    parent = tmp_path / "runs"

    def write_bad(folder: Path) -> None:
        copier(source)(folder)
        (folder / METRICS_FILE).write_text('{"test_neg_elbo": NaN}')

    with pytest.raises(ModelFolderError, match="holds NaN"):
        publish(parent, "bad", write_bad)
    assert list(parent.iterdir()) == []


def test_publish_over_existing_name_changes_nothing(source, tmp_path):
    """Publishing over an existing name raises FileExistsError, leaves it as it was."""
    parent = tmp_path / "runs"
    existing = copy_model(source, parent, "taken")
    (existing / "notes.txt").write_text("keep me")
    before = tree_hashes(existing)
    calls = []

    def write_files(folder: Path) -> None:
        calls.append(folder)
        copier(source)(folder)

    with pytest.raises(FileExistsError, match="'taken' already exists"):
        publish(parent, "taken", write_files)
    assert tree_hashes(existing) == before
    assert calls == []
    assert sorted(p.name for p in parent.iterdir()) == ["taken"]


@pytest.mark.parametrize("name", ["../x", "", "a/b"])
def test_publish_refuses_unsafe_names_before_touching_disk(source, tmp_path, name):
    """An unsafe name raises ValueError and nothing is created, not even the parent."""
    parent = tmp_path / "runs"
    with pytest.raises(ValueError, match="is not allowed"):
        publish(parent, name, copier(source))
    assert not parent.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "name",
    [
        "../x",
        "",
        "a/b",
        "..",
        ".",
        ".hidden",
        "a..b",
        "-rf",
        "_x",
        "x" * 65,
        "a b",
        "a\nb",
        "name\\x",
        "/abs",
        "é",
        None,
        5,
    ],
)
def test_check_name_refuses_unsafe_names(name):
    """Separators, '..', leading dots/dashes, spaces, over 64 chars are refused."""
    with pytest.raises(ValueError, match="is not allowed"):
        check_name(name)


@pytest.mark.parametrize("name", ["m1", "mnist-deep-z2", "a.b_c-d", "X" * 64, "0"])
def test_check_name_accepts_safe_names(name):
    """Letters, digits, '_', '-' and '.' up to 64 chars starting alphanumeric pass."""
    assert check_name(name) == name


def test_list_models_reports_corrupt_folders_beside_good_ones(source, tmp_path):
    """Bad folders are listed with record None and a problem; good ones with one."""
    parent = tmp_path / "runs"
    copy_model(source, parent, "a-good")
    (copy_model(source, parent, "b-missing") / METRICS_FILE).unlink()
    (copy_model(source, parent, "c-badjson") / CONFIG_FILE).write_text("{not json")
    bad_version = copy_model(source, parent, "d-version")
    doc = json.loads((bad_version / CONFIG_FILE).read_text())
    doc["format_version"] = 99
    (bad_version / CONFIG_FILE).write_text(json.dumps(doc))
    bad_config = copy_model(source, parent, "e-config")
    doc["format_version"], doc["model"]["latent_dim"] = 1, 0
    (bad_config / CONFIG_FILE).write_text(json.dumps(doc))
    (copy_model(source, parent, "f-weights") / WEIGHTS_FILE).unlink()
    (parent / "g-empty").mkdir()
    (parent / ".tmp-1-hidden").mkdir()
    (parent / "stray-file.txt").write_text("x")

    listing = {item.name: item for item in list_models(parent)}
    assert list(listing) == [
        "a-good",
        "b-missing",
        "c-badjson",
        "d-version",
        "e-config",
        "f-weights",
        "g-empty",
    ]
    good = listing.pop("a-good")
    assert good.problem is None and good.record is not None
    assert good.record.model == read_record(source).model
    expected = {
        "b-missing": f"missing {METRICS_FILE}",
        "c-badjson": f"{CONFIG_FILE} is not valid JSON",
        "d-version": "is not format version 1",
        "e-config": "latent size must be between 2 and 32",
        "f-weights": f"missing {WEIGHTS_FILE}",
        "g-empty": "missing",
    }
    for name, fragment in expected.items():
        assert listing[name].record is None, name
        assert (
            isinstance(listing[name].problem, str) and fragment in listing[name].problem
        )


def test_list_models_skips_missing_parents_and_spans_several(source, tmp_path):
    """Missing parents are skipped; folders from several parents are all listed."""
    one, two = tmp_path / "one", tmp_path / "two"
    copy_model(source, one, "m1")
    copy_model(source, two, "m2")
    names = [item.name for item in list_models(one, tmp_path / "absent", two)]
    assert names == ["m1", "m2"]
    assert list_models(tmp_path / "absent") == []


def test_load_model_refuses_wrong_latent_shapes(source, tmp_path):
    """Latent arrays not matching the config's latent size raise ModelFolderError."""
    folder = copy_model(source, tmp_path, "wrong-latents")
    np.savez(
        folder / LATENTS_FILE,
        mean=np.zeros((10, 3), np.float32),
        log_var=np.zeros((10, 3), np.float32),
        labels=np.zeros(10, np.uint8),
    )
    with pytest.raises(ModelFolderError, match="do not match latent size 2"):
        load_model(folder)


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"mean": np.zeros((4, 2)), "log_var": np.zeros((4, 2))}, "unreadable"),
        (
            {
                "mean": np.full((4, 2), np.nan),
                "log_var": np.zeros((4, 2)),
                "labels": np.zeros(4, np.uint8),
            },
            "NaN or infinite",
        ),
        (
            {
                "mean": np.zeros((4, 2)),
                "log_var": np.zeros((4, 2)),
                "labels": np.full(4, 12),
            },
            "labels must be integers 0 to 9",
        ),
        (
            {
                "mean": np.zeros((0, 2)),
                "log_var": np.zeros((0, 2)),
                "labels": np.zeros(0, np.uint8),
            },
            "do not match latent size",
        ),
    ],
)
def test_load_model_refuses_bad_latents(source, tmp_path, arrays, message):
    """Missing, non-finite, out-of-range or empty latents raise ModelFolderError."""
    folder = copy_model(source, tmp_path, "bad-latents")
    np.savez(folder / LATENTS_FILE, **arrays)
    with pytest.raises(ModelFolderError, match=message):
        load_model(folder)


def test_load_model_turns_weights_errors_into_folder_errors(source, tmp_path):
    """A corrupt weights file makes load_model raise ModelFolderError."""
    folder = copy_model(source, tmp_path, "bad-weights")
    (folder / WEIGHTS_FILE).write_bytes(b"garbage")
    with pytest.raises(ModelFolderError, match="cannot read weights"):
        load_model(folder)


def test_load_model_refuses_inconsistent_snapshots(source, tmp_path):
    """Snapshot grids that are not uint8 multiples of 28 raise ModelFolderError."""
    folder = copy_model(source, tmp_path, "bad-snaps")
    np.savez(
        folder / SNAPSHOTS_FILE,
        epochs=np.array([1]),
        grids=np.zeros((1, 30, 30), np.uint8),
    )
    with pytest.raises(ModelFolderError, match="grids must be uint8"):
        load_model(folder)


def test_snapshots_are_optional(source, tmp_path):
    """A folder without snapshots.npz loads with no snapshots."""
    folder = copy_model(source, tmp_path, "no-snaps")
    (folder / SNAPSHOTS_FILE).unlink()
    assert load_model(folder).snapshots == {}


def test_remove_stale_temps_removes_dead_writers_only(tmp_path):
    """Temp folders of exited processes go; this process's and model folders stay."""
    dead = exited_pid()
    stale = tmp_path / f".tmp-{dead}-abc"
    stale.mkdir()
    (stale / "config.json").write_text("{}")
    stale_file = tmp_path / f".tmp-{dead}-x.json"
    stale_file.write_text("{}")
    live = tmp_path / f".tmp-{os.getpid()}-def"
    live.mkdir()
    model = tmp_path / "model"
    model.mkdir()
    removed = remove_stale_temps(tmp_path)
    assert sorted(removed) == sorted([stale, stale_file])
    assert not stale.exists() and not stale_file.exists()
    assert live.is_dir() and model.is_dir()


def test_remove_stale_temps_on_missing_parent_returns_nothing(tmp_path):
    """A parent that does not exist yields an empty list."""
    assert remove_stale_temps(tmp_path / "absent") == []


def test_trained_dir_honours_vaeapp_home(monkeypatch, tmp_path):
    """trained_dir() is $VAEAPP_HOME when set, else ./runs."""
    monkeypatch.setenv("VAEAPP_HOME", str(tmp_path / "home"))
    assert trained_dir() == (tmp_path / "home").resolve()
    monkeypatch.delenv("VAEAPP_HOME")
    monkeypatch.chdir(tmp_path)
    assert trained_dir() == (tmp_path / "runs").resolve()


def test_write_json_replaces_atomically_and_refuses_nan(tmp_path):
    """write_json replaces the file whole; a NaN is refused and the old file kept."""
    path = tmp_path / "doc.json"
    write_json(path, {"a": 1})
    assert json.loads(path.read_text()) == {"a": 1}
    with pytest.raises(ValueError):
        write_json(path, {"a": float("nan")})
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["doc.json"]


def _set_figures(folder: Path, val: float | None, test: float | None) -> None:
    metrics = json.loads((folder / METRICS_FILE).read_text())
    metrics.pop("val_neg_elbo", None)
    if val is not None:
        metrics["val_neg_elbo"] = val
    metrics["test_neg_elbo"] = test
    (folder / METRICS_FILE).write_text(json.dumps(metrics))


def test_best_pretrained_chooses_on_validation_not_test(source, tmp_path, monkeypatch):
    """The start model is the lowest validation -ELBO, even where another has a
    lower test figure; folders without a validation figure come after, by test."""
    figures = {
        "best-test": (300.0, 100.0),
        "best-val": (120.5, 130.0),
        "no-val": (None, 50.0),
        "broken": (1.0, None),
    }
    for name, (val, test) in figures.items():
        _set_figures(copy_model(source, tmp_path, name), val, test)
    monkeypatch.setattr(listing, "PRETRAINED_DIR", tmp_path)
    assert listing.best_pretrained("mnist") == tmp_path / "best-val"
    for name in ("best-test", "best-val"):
        _set_figures(tmp_path / name, None, figures[name][1])
    assert listing.best_pretrained("mnist") == tmp_path / "no-val"
    with pytest.raises(
        ModelFolderError, match="no usable pretrained fashion_mnist model"
    ):
        listing.best_pretrained("fashion_mnist")
    with pytest.raises(ValueError, match="dataset must be one of"):
        listing.best_pretrained("../cifar10")


def test_best_pretrained_opens_on_a_2d_model(source, tmp_path, monkeypatch):
    """A shipped 20-D model with a lower -ELBO is not the start model: the page
    opens on the best 2-D one."""
    shutil.copytree(PRETRAINED_DIR / "mnist-20d", tmp_path / "twenty")
    copy_model(source, tmp_path, "flat")
    monkeypatch.setattr(listing, "PRETRAINED_DIR", tmp_path)
    assert load_model(tmp_path / "twenty").record.model.latent_dim == 20
    assert listing.best_pretrained("mnist") == tmp_path / "flat"


def test_write_json_temp_name_carries_the_writer_pid(tmp_path, monkeypatch):
    """write_json's temp file is named .tmp-<pid>-, so stale-temp cleanup spares it."""
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append(Path(src).name)
        assert remove_stale_temps(tmp_path) == []  # a live writer's temp is kept
        real_replace(src, dst)

    monkeypatch.setattr(writing.os, "replace", spy)
    write_json(tmp_path / "progress.json", {"state": "running"})
    assert len(seen) == 1 and seen[0].startswith(f".tmp-{os.getpid()}-")
    assert json.loads((tmp_path / "progress.json").read_text()) == {"state": "running"}


@pytest.mark.parametrize(
    "name", sorted(p.name for p in PRETRAINED_DIR.iterdir() if p.is_dir())
)
def test_every_shipped_folder_loads_with_class_names(name):
    """Each shipped folder loads; MNIST-era folders get their official names."""
    model = load_model(PRETRAINED_DIR / name)
    assert model.class_names is not None and len(model.class_names) >= 2
    assert model.labels.max() < len(model.class_names)
    height, width, channels = model.image_shape
    assert model.test_images.shape == (model.labels.size, height * width * channels)
    if model.factors is not None:
        assert model.factors.shape == (model.labels.size, len(model.factor_names))


def _with_data(folder: Path, data) -> None:
    config = json.loads((folder / CONFIG_FILE).read_text())
    config["data"] = data
    (folder / CONFIG_FILE).write_text(json.dumps(config))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "data must be an object"),
        ({"classes": ["a"]}, "data must be an object"),
        ({"class_names": "ab"}, "class_names must list 1 to 100"),
        ({"class_names": ["x" * 41]}, "class_names must list"),
        ({"class_names": ["a\nb"]}, "class_names must list"),
        ({"class_names": [1, 2]}, "class_names must list"),
        ({"factor_names": [None]}, "factor_names must list 1 to 16"),
        ({"train_images": -1}, "train_images must be a whole number"),
        ({"train_images": 1.5}, "train_images must be a whole number"),
        ({"class_names": ["only"]}, "labels must be integers 0 to 0"),
    ],
)
def test_crafted_data_description_makes_the_folder_unusable(
    source, tmp_path, data, message
):
    """A config.json 'data' entry of the wrong form raises ModelFolderError."""
    folder = copy_model(source, tmp_path, "bad-data")
    _with_data(folder, data)
    with pytest.raises(ModelFolderError, match=message):
        load_model(folder)


@pytest.mark.parametrize(
    ("names", "factors", "message"),
    [
        (None, np.zeros((100, 2), np.float32), "factors must be floats, one row"),
        (["a", "b"], np.zeros((100, 3), np.float32), "factors must be floats, one row"),
        (["a", "b"], np.zeros((100, 2), np.int32), "factors must be floats, one row"),
        (["a", "b"], np.full((100, 2), np.nan, np.float32), "factors must be finite"),
        (["a", "b"], np.full((100, 2), 1e300), "factors must be finite"),
    ],
)
def test_crafted_factors_make_the_folder_unusable(
    source, tmp_path, names, factors, message
):
    """Factors not matching their names, or not finite, raise ModelFolderError."""
    folder = copy_model(source, tmp_path, "bad-factors")
    _with_data(folder, {"factor_names": names, "class_names": list("0123456789")})
    with np.load(folder / LATENTS_FILE, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    np.savez(folder / LATENTS_FILE, **arrays, factors=factors)
    with pytest.raises(ModelFolderError, match=message):
        load_model(folder)


def test_factors_with_their_names_load(source, tmp_path):
    """Finite float factors named in config.json load read-only with their names."""
    folder = copy_model(source, tmp_path, "factors")
    _with_data(folder, {"factor_names": ["a", "b"], "class_names": list("0123456789")})
    with np.load(folder / LATENTS_FILE, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    factors = np.arange(200, dtype=np.float32).reshape(100, 2)
    np.savez(folder / LATENTS_FILE, **arrays, factors=factors)
    model = load_model(folder)
    assert model.factor_names == ("a", "b")
    np.testing.assert_array_equal(model.factors, factors)
    assert not model.factors.flags.writeable
