"""AppTest: a model folder of crafted JSON in the models folder never makes
the page fail, for the session that first meets it or for any later one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from app_helpers import new_app
from streamlit.testing.v1 import AppTest

from vaeapp.store.format import CONFIG_FILE, METRICS_FILE
from vaeapp.store.listing import best_pretrained
from vaeapp.ui.state import K

HUGE_INT = "1" + "0" * 5000


def _sidebar_text(at: AppTest) -> str:
    parts = [m.value for m in at.sidebar.markdown]
    parts += [t.value for t in at.sidebar.text]
    parts += [e.label for e in at.sidebar.expander]
    return "\n".join(parts)


def _craft(home: Path) -> None:
    """Three copies of the shipped model, each with one crafted JSON value."""
    good = best_pretrained()
    config = json.loads((good / CONFIG_FILE).read_text())
    metrics = json.loads((good / METRICS_FILE).read_text())
    for name, file, text in [
        (
            "huge-beta",
            CONFIG_FILE,
            json.dumps({**config, "model": {**config["model"], "beta": 0}}).replace(
                '"beta": 0', f'"beta": {HUGE_INT}'
            ),
        ),
        ("nan-elbo", METRICS_FILE, json.dumps({**metrics, "test_neg_elbo": "NaN"})),
        (
            "inf-history",
            METRICS_FILE,
            json.dumps({**metrics, "history": [{"epoch": 1, "recon": 0}]}).replace(
                '"recon": 0', '"recon": 1e999'
            ),
        ),
    ]:
        folder = Path(shutil.copytree(good, home / name))
        (folder / file).write_text(text)


def test_crafted_json_folders_are_listed_unusable_for_every_session(
    isolated_home: Path,
) -> None:
    """Folders of crafted JSON: a first and a second session both get the page
    with no exception or error, the folders listed as unusable with their
    reasons, and the shipped model active."""
    _craft(isolated_home)
    first = new_app().run()
    second = new_app().run()
    for at in (first, second):
        assert not at.exception
        assert not at.error and not at.sidebar.error
        text = _sidebar_text(at)
        assert "3 unusable model folder(s)" in text
        assert "huge-beta: config.json holds an integer of more than 30" in text
        assert "nan-elbo: metrics.json lacks a finite test_neg_elbo" in text
        assert "inf-history: metrics.json holds the number 1e999" in text
        assert at.session_state[K.ACTIVE_MODEL] == str(best_pretrained())
