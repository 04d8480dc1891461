"""AppTest tests of the Retrain section's interrupted runs: shown with what
they did, continued as the same command, or discarded."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from app_helpers import new_app, shown
from streamlit.testing.v1 import AppTest

from vaeapp.core.config import ModelConfig, TrainConfig
from vaeapp.jobs import runner as jobs
from vaeapp.store import unfinished
from vaeapp.ui.sidebar.interrupted import INTERRUPTED_TITLE
from vaeapp.ui.state import K

IDENTITY = "0123456789abcdef0123"


def _interrupted(home: Path, data: Path, name_given: bool = True) -> Path:
    """A run's working folder as a run killed after 2 of 5 epochs leaves it."""
    folder = unfinished.working_folder(home, IDENTITY)
    folder.mkdir(parents=True)
    run = unfinished.Unfinished(
        identity=IDENTITY,
        name="mnist-z2-cut",
        model=ModelConfig(hidden=(24,)),
        train=TrainConfig(epochs=5, batch_size=50, train_size=200),
        data_source=str(data),
        data=str(data),
        name_given=name_given,
        epochs_done=2,
        updated=1.0,
    )
    unfinished.describe(folder, run)
    (folder / unfinished.CHECKPOINT_FILE).write_bytes(b"")
    return folder


def _open_retrain() -> AppTest:
    at = new_app().run()
    at.session_state[K.RETRAIN_OPEN] = True
    return at.run()


def _button(at: AppTest, label: str):
    return next(b for b in at.sidebar.button if b.label == label)


def test_an_interrupted_run_is_shown_and_continued_as_the_same_command(
    small_mnist: Path, isolated_home: Path
) -> None:
    """The Retrain section lists the run (name, 2 of 5 epochs) and Continue
    starts the training command on its data, under its name, followed by
    this session."""
    _interrupted(isolated_home, small_mnist)
    at = _open_retrain()
    assert not at.exception
    assert any(INTERRUPTED_TITLE in m.value for m in at.sidebar.markdown)
    captions = [shown(c.value) for c in at.sidebar.caption]
    (caption,) = [text for text in captions if "mnist-z2-cut" in text]
    assert "2 of 5 epochs done" in caption
    _button(at, "Continue").click().run()
    assert not at.exception and not at.sidebar.error
    job = jobs.current_job(isolated_home)
    assert job is not None and job.name == "mnist-z2-cut"
    try:
        command = Path(f"/proc/{job.pid}/cmdline").read_bytes().split(b"\0")
        arguments = [part.decode() for part in command]
        assert arguments[arguments.index("--name") + 1] == "mnist-z2-cut"
        assert arguments[arguments.index("--data") + 1] == str(small_mnist)
        assert any(b.label == "Cancel training" for b in at.sidebar.button)
    finally:
        os.kill(job.pid, signal.SIGKILL)
        jobs.wait_job(job, 30)


def test_a_run_whose_name_was_generated_continues_without_name(
    small_mnist: Path, isolated_home: Path
) -> None:
    """A command-line run that generated its name is run again without
    --name, as it was started (its identity leaves the name out)."""
    _interrupted(isolated_home, small_mnist, name_given=False)
    at = _open_retrain()
    _button(at, "Continue").click().run()
    job = jobs.current_job(isolated_home)
    assert job is not None
    try:
        command = Path(f"/proc/{job.pid}/cmdline").read_bytes().split(b"\0")
        assert b"--name" not in command
    finally:
        os.kill(job.pid, signal.SIGKILL)
        jobs.wait_job(job, 30)


def test_discard_removes_the_run_and_its_checkpoint(
    small_mnist: Path, isolated_home: Path
) -> None:
    """Discard deletes the working folder; the list is gone from the page."""
    folder = _interrupted(isolated_home, small_mnist)
    at = _open_retrain()
    _button(at, "Discard").click().run()
    assert not at.exception
    assert not folder.exists()
    assert not any(INTERRUPTED_TITLE in m.value for m in at.sidebar.markdown)
    assert jobs.current_job(isolated_home) is None
