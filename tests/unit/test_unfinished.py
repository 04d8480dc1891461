"""Working folders of unfinished runs: their identity, their lock, and
reading run.json as outside input."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vaeapp.core.config import ModelConfig, RefineConfig, TrainConfig
from vaeapp.store import unfinished
from vaeapp.store.unfinished import (
    CHECKPOINT_FILE,
    RUN_FILE,
    RunBusy,
    Unfinished,
    hold,
    interrupted_runs,
    read_run,
    run_identity,
    working_folder,
)

MODEL, TRAIN = ModelConfig(hidden=(16,)), TrainConfig(epochs=5)


def _identity(**changes) -> str:
    options = {"data_source": "/data/a.npz", "name": None, **changes}
    model = changes.pop("model", MODEL)
    train = changes.pop("train", TRAIN)
    options.pop("model", None)
    options.pop("train", None)
    return run_identity(model, train, **options)


def test_the_identity_is_stable_and_changes_with_what_decides_the_result():
    """The same settings give the same identity; another seed, epoch count,
    data, name, refinement, backend or process count gives another."""
    same = _identity()
    assert same == _identity() and len(same) == unfinished.IDENTITY_CHARS
    others = [
        _identity(train=dataclasses.replace(TRAIN, seed=1)),
        _identity(train=dataclasses.replace(TRAIN, epochs=6)),
        _identity(model=ModelConfig(hidden=(17,))),
        _identity(data_source="/data/b.npz"),
        _identity(name="m"),
        _identity(refine=RefineConfig()),
        _identity(backend="jax"),
        _identity(processes=2),
    ]
    assert len({same, *others}) == len(others) + 1


def test_working_folder_refuses_what_is_not_an_identity(tmp_path: Path):
    """Only a digest of the right length names a working folder."""
    assert working_folder(tmp_path, "a" * 20).parent.name == ".unfinished"
    for bad in ("../../etc", "A" * 20, "a" * 19, ""):
        with pytest.raises(ValueError, match="not a run identity"):
            working_folder(tmp_path, bad)


def _written(parent: Path, epochs_done: int = 2, name: str = "m") -> Path:
    identity = _identity(name=name)
    folder = working_folder(parent, identity)
    folder.mkdir(parents=True)
    run = Unfinished(identity, name, MODEL, TRAIN, "/data/a.npz", "/data/a.npz")
    unfinished.describe(folder, dataclasses.replace(run, epochs_done=epochs_done))
    (folder / CHECKPOINT_FILE).write_bytes(b"")
    return folder


def test_a_run_json_reads_back_as_written(tmp_path: Path):
    """describe then read_run gives the same run (and where it was read)."""
    folder = _written(tmp_path)
    run = read_run(folder)
    assert run is not None and run.folder == folder
    assert (run.name, run.model, run.train, run.epochs_done) == ("m", MODEL, TRAIN, 2)


def test_listing_skips_running_published_and_epochless_runs(tmp_path: Path):
    """interrupted_runs lists a run with a finished epoch whose lock nobody
    holds and whose model folder does not exist."""
    folder = _written(tmp_path, name="a")
    _written(tmp_path, epochs_done=0, name="b")
    _written(tmp_path, name="c")
    (tmp_path / "c").mkdir()  # published, then killed before clearing up
    running = _written(tmp_path, name="d")
    lock = hold(running)
    try:
        assert [run.folder for run in interrupted_runs(tmp_path)] == [folder]
        with pytest.raises(RunBusy):
            hold(running)
        assert not unfinished.discard(running)
    finally:
        os.close(lock)
    assert unfinished.discard(running) and not running.exists()


def test_interrupted_runs_of_a_missing_folder_is_empty(tmp_path: Path):
    """No models folder, or no working folders: no runs."""
    assert interrupted_runs(tmp_path / "nowhere") == []


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=12), inner, max_size=6)
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(document=JSON, field=st.sampled_from(["name", "model", "train", "refine",
       "epochs_done", "identity", "name_given", "data", "updated"]))  # fmt: skip
def test_read_run_never_raises_for_what_the_file_holds(
    tmp_path_factory, document, field
):
    """Any JSON at all, or a valid run.json with one field replaced by any
    JSON value, reads as a valid run or as None: never an exception."""
    parent = tmp_path_factory.mktemp("runs")
    folder = _written(parent)
    (folder / RUN_FILE).write_text(json.dumps(document))
    assert read_run(folder) is None or isinstance(read_run(folder), Unfinished)
    valid = Unfinished(folder.name, "m", MODEL, TRAIN, "src").to_dict()
    valid[field] = document
    (folder / RUN_FILE).write_text(json.dumps(valid))
    run = read_run(folder)
    assert run is None or isinstance(run, Unfinished)
