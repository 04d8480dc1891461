"""The progress file written by training and polled by the app."""

from __future__ import annotations

import json

import pytest

from vaeapp.jobs.progress import (
    DONE,
    FAILED,
    RUNNING,
    Progress,
    read_progress,
    write_progress,
)


def test_progress_round_trips_through_the_file(tmp_path):
    """write_progress then read_progress gives the same state, stamped with a time."""
    path = tmp_path / "p.json"
    written = Progress(
        state=RUNNING,
        epochs=5,
        epoch=2,
        fraction=0.5,
        history=[{"epoch": 1, "recon": 200.0, "kl": 5.0, "test_neg_elbo": 210.0}],
        pid=42,
    )
    write_progress(path, written)
    assert written.updated > 0
    read = read_progress(path)
    assert read == written
    assert not read.finished
    assert [p.name for p in tmp_path.iterdir()] == ["p.json"]


@pytest.mark.parametrize(
    ("state", "finished"),
    [(DONE, True), (FAILED, True), ("cancelled", True), ("starting", False)],
)
def test_finished_states(state, finished):
    """done, failed and cancelled are finished; starting and running are not."""
    assert Progress(state=state).finished is finished


def test_write_progress_without_path_does_nothing(tmp_path):
    """A None path writes nothing and raises nothing."""
    write_progress(None, Progress())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "content",
    ["", "{not json", "[]", '{"state": "exploded"}', '{"epoch": 1}', "\xff\xfe"],
)
def test_read_progress_of_bad_content_returns_none(tmp_path, content):
    """Unreadable, non-object or unknown-state files give None rather than raising."""
    path = tmp_path / "p.json"
    path.write_text(content, encoding="latin-1")
    assert read_progress(path) is None


def test_read_progress_ignores_unknown_fields_and_missing_file(tmp_path):
    """Extra keys are ignored; a missing file gives None."""
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"state": DONE, "epoch": 3, "future_field": 1}))
    assert read_progress(path) == Progress(state=DONE, epoch=3)
    assert read_progress(tmp_path / "absent.json") is None
