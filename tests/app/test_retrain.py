"""AppTest tests of the Retrain form: generated from the config fields, and handing
the training process the checked configs as a document."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from app_helpers import fill_retrain_form, new_app
from streamlit.testing.v1 import AppTest

from vaeapp.core.config import ModelConfig, RefineConfig, TrainConfig
from vaeapp.core.options import REFINE_PREFIX, as_arguments
from vaeapp.core.settings import form_default, settings
from vaeapp.jobs import runner as jobs
from vaeapp.ui.sidebar.retrain import REFINE_LABEL
from vaeapp.ui.state import K


def _form_fields() -> list:
    return [
        (field, spec, spec.label or spec.name.capitalize())
        for cls in (TrainConfig, ModelConfig)
        for field, spec in settings(cls)
        if spec.form
    ]


def _open_form() -> AppTest:
    at = new_app().run()
    at.session_state[K.RETRAIN_OPEN] = True
    return at.run()


def test_the_form_shows_exactly_the_fields_marked_for_it() -> None:
    """Every field with form=True has a widget under its label, and no other does."""
    at = _open_form()
    assert not at.exception
    shown = {
        w.label
        for w in [
            *at.sidebar.number_input,
            *at.sidebar.text_input,
            *at.sidebar.radio,
            *at.sidebar.selectbox,
            *at.sidebar.checkbox,
        ]
        if w.form_id == "retrain"
    }
    assert shown == {label for _, _, label in _form_fields()} | {REFINE_LABEL}


def test_the_forms_limits_and_defaults_come_from_the_config_fields() -> None:
    """Each number field's min, max and start value are its Setting's limits and
    form default (e.g. 5 epochs, 10,000 images)."""
    at = _open_form()
    inputs = {n.label: n for n in at.sidebar.number_input}
    for field, spec, label in _form_fields():
        if label not in inputs:
            continue
        widget = inputs[label]
        assert (widget.min, widget.max) == (spec.low, spec.high), label
        assert widget.value == form_default(field, spec), label
    assert inputs["Epochs"].value == 5 and inputs["Training images"].value == 10_000


def test_retrain_hands_the_run_the_chosen_configs_as_a_document(
    small_mnist: Path, isolated_home: Path
) -> None:
    """Pressing Retrain writes the chosen configs into the job folder and starts
    the run with --config; only this session gets the Cancel button."""
    at = new_app().run()
    fill_retrain_form(at, hidden="24")
    at.sidebar.button[0].click().run()
    assert not at.exception and not at.sidebar.error
    job = jobs.current_job(isolated_home)
    assert job is not None
    try:
        documents = list((isolated_home / jobs.JOBS_DIR).glob("*.config.json"))
        assert [p.name for p in documents] == [f"{job.name}.config.json"]
        document = json.loads(documents[0].read_text())
        model = ModelConfig.from_dict(document["model"])
        train = TrainConfig.from_dict(document["train"])
        assert model.hidden == (24,) and model.architecture == "dense"
        assert (train.epochs, train.batch_size, train.train_size) == (1, 50, 200)
        assert any(b.label == "Cancel training" for b in at.sidebar.button)
    finally:
        os.kill(job.pid, signal.SIGKILL)
        jobs.wait_job(job, 30)


def test_refine_in_the_form_starts_the_run_with_its_options(
    small_mnist: Path, isolated_home: Path
) -> None:
    """Ticking "Refine q per image" starts the run with the --refine options
    of RefineConfig's defaults; on a conv model it is refused in the form."""
    at = new_app().run()
    fill_retrain_form(at, architecture="conv")
    next(c for c in at.sidebar.checkbox if c.label == REFINE_LABEL).check()
    at.sidebar.button[0].click().run()
    assert "needs a dense model" in at.sidebar.error[0].value
    assert jobs.current_job(isolated_home) is None
    fill_retrain_form(at, hidden="24")
    next(c for c in at.sidebar.checkbox if c.label == REFINE_LABEL).check()
    at.sidebar.button[0].click().run()
    assert not at.exception and not at.sidebar.error
    job = jobs.current_job(isolated_home)
    assert job is not None
    try:
        command = Path(f"/proc/{job.pid}/cmdline").read_bytes().split(b"\0")
        arguments = [part.decode() for part in command]
        expected = as_arguments(RefineConfig(), REFINE_PREFIX)
        at_refine = arguments.index("--refine-steps")
        assert arguments[at_refine : at_refine + len(expected)] == expected
    finally:
        os.kill(job.pid, signal.SIGKILL)
        jobs.wait_job(job, 30)
