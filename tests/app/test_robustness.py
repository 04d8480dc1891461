"""AppTest tests of bad input and damaged files: the page keeps serving."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from app_helpers import (
    fill_retrain_form,
    move_slider,
    new_app,
    run_until_warning,
    shown,
)
from streamlit.testing.v1 import AppTest

from vaeapp.jobs import runner as jobs
from vaeapp.store.format import CONFIG_FILE, WEIGHTS_FILE
from vaeapp.store.listing import best_pretrained
from vaeapp.store.reading import load_model
from vaeapp.ui.sidebar.retrain import BUSY_NOTE
from vaeapp.ui.state import K

ROOT = Path(__file__).resolve().parents[2]


def _sidebar_text(at: AppTest) -> str:
    parts = [shown(m.value) for m in at.sidebar.markdown]
    parts += [t.value for t in at.sidebar.text]
    parts += [e.label for e in at.sidebar.expander]
    return "\n".join(parts)


def _errors(at: AppTest) -> str:
    return shown("\n".join(e.value for e in [*at.error, *at.sidebar.error]))


def test_corrupt_model_folders_are_listed_as_unusable(isolated_home: Path) -> None:
    """Broken model folders are listed with a reason; the pretrained one still opens."""
    good = best_pretrained()
    bad_json = isolated_home / "bad-json"
    shutil.copytree(good, bad_json)
    (bad_json / CONFIG_FILE).write_text("{not json")
    missing = isolated_home / "missing-weights"
    shutil.copytree(good, missing)
    (missing / WEIGHTS_FILE).unlink()
    at = new_app().run()
    assert not at.exception
    text = _sidebar_text(at)
    assert "2 unusable model folder(s)" in text
    assert "not valid JSON" in text and "missing model.weights.h5" in text
    assert good.name in text


def test_a_batch_larger_than_the_training_images_is_refused_in_the_page(
    small_mnist: Path, isolated_home: Path
) -> None:
    """A batch above the chosen number of training images gives an error, no run."""
    at = new_app().run()
    fill_retrain_form(at)
    next(n for n in at.sidebar.number_input if n.label == "Batch size").set_value(500)
    at.sidebar.button[0].click().run()
    assert "batch size 500 is larger than the 200 training images" in _errors(at)
    assert jobs.current_job(isolated_home) is None


def test_bad_hidden_widths_are_refused_in_the_page(
    small_mnist: Path, isolated_home: Path
) -> None:
    """Hidden widths that are not numbers give a clear error and start nothing."""
    at = new_app().run()
    fill_retrain_form(at, lr=1e-3, hidden="wide")
    at.sidebar.button[0].click().run()
    assert "hidden widths must be" in _errors(at)
    assert jobs.current_job(isolated_home) is None


def test_without_mnist_data_the_form_offers_shapes_and_says_what_to_set(
    isolated_home: Path, tmp_path: Path, monkeypatch
) -> None:
    """No MNIST data: the form offers the generated shapes only and names the
    variables an administrator sets for the others."""
    for name in ("VAEAPP_MNIST_DATA", "VAEAPP_FASHION_MNIST_DATA"):
        monkeypatch.setenv(name, str(tmp_path / "absent"))
    at = new_app().run()
    at.session_state[K.RETRAIN_OPEN] = True
    at.run()
    data = next(
        w for w in [*at.sidebar.selectbox, *at.sidebar.radio] if w.label == "Data"
    )
    assert list(data.options) == ["Shapes"]
    assert not at.sidebar.button[0].disabled
    assert any("administrator" in shown(i.value) for i in at.sidebar.info)
    names = "\n".join(c.value for c in at.sidebar.code)
    assert "VAEAPP_MNIST_DATA" in names and "VAEAPP_FASHION_MNIST_DATA" in names
    assert str(tmp_path) not in names + "\n".join(i.value for i in at.sidebar.info)


def test_diverging_training_keeps_the_active_model(
    small_mnist: Path, isolated_home: Path
) -> None:
    """Learning rate 1e6 makes the loss NaN: nothing published, model unchanged."""
    at = new_app().run()
    active = at.session_state[K.ACTIVE_MODEL]
    fill_retrain_form(at, lr=1e6)
    at.sidebar.button[0].click().run()
    run_until_warning(at, "Training failed")
    assert any("NaN" in shown(w.value) for w in at.warning)
    assert at.session_state[K.ACTIVE_MODEL] == active
    assert [p.name for p in isolated_home.iterdir() if not p.name.startswith(".")] == []


def test_a_second_session_is_told_retrain_is_busy_and_the_run_survives(
    small_mnist: Path, isolated_home: Path
) -> None:
    """Two sessions press Retrain: one run; the other sees it busy; it survives both."""
    first, second = new_app().run(), new_app().run()
    fill_retrain_form(first, lr=1e-3)
    fill_retrain_form(second, lr=1e-3)
    first.sidebar.button[0].click().run()
    assert not _errors(first)
    second.sidebar.button[0].click().run()
    assert not second.exception and not _errors(second)
    assert any(BUSY_NOTE == c.value for c in second.sidebar.caption)
    assert "(started elsewhere)" in _sidebar_text(second)
    assert not any(b.label == "Cancel training" for b in second.sidebar.button)
    assert any(b.label == "Cancel training" for b in first.sidebar.button)
    # The starter clicks other widgets, then closes its tab; the run goes on.
    move_slider(first, 0, 1.5)
    assert not first.exception
    del first
    deadline = time.monotonic() + 180
    while jobs.current_job(isolated_home) is not None:
        assert time.monotonic() < deadline, "the training run did not end in 180 s"
        time.sleep(1)
        second.run()
        assert not second.exception
    published = [p for p in isolated_home.iterdir() if not p.name.startswith(".")]
    assert len(published) == 1
    assert load_model(published[0]).record.epochs_trained == 1
