"""The Retrain form offers what the command line does for own data (issue 23):
image size, colour, background, preset and latent size, from the config
fields; and its progress shows the run's notes and the time left."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from app_helpers import fill_retrain_form, new_app
from streamlit.testing.v1 import AppTest

from vaeapp.core.config import TrainConfig, preset_summary
from vaeapp.core.settings import settings
from vaeapp.jobs import runner as jobs
from vaeapp.ui.sidebar.retrain import PRESET_LABEL
from vaeapp.ui.state import K

OWN_DATA_FIELDS = ("image_size", "color", "background")


def _labels(cls: type, names: tuple[str, ...]) -> dict[str, str]:
    """The form labels of the fields ``names`` of ``cls``, as the specs say."""
    return {
        f.name: spec.label or spec.name.capitalize()
        for f, spec in settings(cls)
        if f.name in names
    }


def _open_form() -> AppTest:
    at = new_app().run()
    at.session_state[K.RETRAIN_OPEN] = True
    return at.run()


def _widget(at: AppTest, label: str):
    """The sidebar widget labelled ``label``."""
    widgets = [
        *at.sidebar.number_input,
        *at.sidebar.text_input,
        *at.sidebar.radio,
        *at.sidebar.selectbox,
    ]
    return next(w for w in widgets if w.label == label)


def test_the_form_offers_image_size_colour_background_and_latent_size() -> None:
    """Image size (0 to 128, starting at 0: the data's own), colour (auto, grey,
    rgb) and background (black, white) are in the form under their specs'
    labels, beside the latent size."""
    at = _open_form()
    assert not at.exception
    labels = _labels(TrainConfig, OWN_DATA_FIELDS)
    size = _widget(at, labels["image_size"])
    assert (size.min, size.max, size.value) == (0, 128, 0)
    assert list(_widget(at, labels["color"]).options) == ["auto", "grey", "rgb"]
    assert list(_widget(at, labels["background"]).options) == ["black", "white"]
    assert _widget(at, "Latent size").value == 2


def test_choosing_a_preset_fills_the_architecture_fields() -> None:
    """The Preset choice (help: what each builds) fills Hidden widths and
    Architecture: deep gives 512,256 dense, conv gives 256 conv."""
    at = _open_form()
    preset = _widget(at, PRESET_LABEL)
    assert preset.value == "tutorial" and preset_summary() in preset.help
    assert _widget(at, "Hidden widths").value == "256"
    preset.set_value("deep").run()
    assert _widget(at, "Hidden widths").value == "512,256"
    assert _widget(at, "Architecture").value == "dense"
    _widget(at, PRESET_LABEL).set_value("conv").run()
    assert _widget(at, "Architecture").value == "conv"
    assert not at.exception


def test_the_chosen_size_colour_background_and_latent_size_reach_the_run(
    small_mnist: Path, isolated_home: Path
) -> None:
    """Retrain with image size 16, rgb, white and latent size 3 hands the run
    exactly those settings in its config document."""
    at = new_app().run()
    fill_retrain_form(at)
    labels = _labels(TrainConfig, OWN_DATA_FIELDS)
    _widget(at, labels["image_size"]).set_value(16)
    _widget(at, labels["color"]).set_value("rgb")
    _widget(at, labels["background"]).set_value("white")
    _widget(at, "Latent size").set_value(3)
    next(b for b in at.sidebar.button if b.label == "Retrain").click().run()
    assert not at.exception and not at.sidebar.error
    job = jobs.current_job(isolated_home)
    assert job is not None
    try:
        document = json.loads(
            (isolated_home / jobs.JOBS_DIR / f"{job.name}.config.json").read_text()
        )
        train = TrainConfig.from_dict(document["train"])
        assert (train.image_size, train.color, train.background) == (16, "rgb", "white")
        assert document["model"]["latent_dim"] == 3
    finally:
        os.kill(job.pid, signal.SIGKILL)
        jobs.wait_job(job, 30)


def _progress_page() -> None:
    """A page showing a run's progress, with notes and the time left."""
    from vaeapp.jobs.progress import Progress
    from vaeapp.ui.sidebar.retrain import show_progress

    show_progress(
        Progress(
            state="running",
            epochs=30,
            epoch=2,
            fraction=0.5,
            notes=["validation split: 342 images", "no test image for class 'a b'"],
            seconds_left=125.0,
        )
    )


def test_the_progress_shows_the_time_left_and_the_runs_notes() -> None:
    """The bar says the epoch and the whole run's time left; each note of
    the progress file is a caption under it."""
    at = AppTest.from_function(_progress_page).run()
    assert not at.exception
    captions = [c.value for c in at.caption]
    assert any("342 images" in c for c in captions)
    assert any("no test image" in c for c in captions)
    bar = at.get("progress")[0]
    assert bar.proto.text == "epoch 3 of 30 · about 3 min left"


def test_a_conv_deep_retrain_keeps_the_presets_growing_filters() -> None:
    """The form has no filters field: with conv-deep chosen and its conv
    architecture kept, the run gets the preset's filters (grow with the image
    size), not the plain conv preset's; with dense chosen, the defaults."""
    from vaeapp.core.config import ModelConfig
    from vaeapp.ui.sidebar.retrain import _with_preset_only

    deep = ModelConfig.preset("conv-deep")
    kept = _with_preset_only({"architecture": "conv", "hidden": "256"}, deep)
    assert kept["filters"] == deep.filters == ()
    dense = _with_preset_only({"architecture": "dense", "hidden": "256"}, deep)
    assert "filters" not in dense
