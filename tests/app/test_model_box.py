"""AppTest: the Switch model box shows the active model after every route
that changes it, and picking the model it showed before works again."""

from __future__ import annotations

import shutil
from pathlib import Path

from app_helpers import new_app
from streamlit.testing.v1 import AppTest

from vaeapp.store import PRETRAINED_DIR, best_pretrained
from vaeapp.ui.state import K

OTHER = str(PRETRAINED_DIR / "mnist-tutorial")


def _box(at: AppTest) -> str:
    return at.selectbox(key=K.MODEL_PICK).value


def _restore(at: AppTest) -> AppTest:
    button = next(b for b in at.sidebar.button if b.label == "Restore pretrained model")
    return button.click().run()


def test_the_box_follows_restore_and_can_pick_again(isolated_home: Path) -> None:
    """Pick a trained model, press Restore: the box shows the default model,
    and picking the trained one again switches to it."""
    trained = str(shutil.copytree(best_pretrained(), isolated_home / "mine"))
    at = new_app().run()
    at.selectbox(key=K.MODEL_PICK).set_value(trained).run()
    assert at.session_state[K.ACTIVE_MODEL] == trained
    _restore(at)
    assert at.session_state[K.ACTIVE_MODEL] == str(best_pretrained())
    assert _box(at) == str(best_pretrained())
    at.selectbox(key=K.MODEL_PICK).set_value(trained).run()
    assert at.session_state[K.ACTIVE_MODEL] == trained
    assert not at.exception


def test_the_box_follows_a_model_set_elsewhere() -> None:
    """A model made active by another route (a link, a finished training or
    an upload set the session's model) is what the box shows."""
    at = new_app().run()
    at.selectbox(key=K.MODEL_PICK).set_value(OTHER).run()
    at.session_state[K.ACTIVE_MODEL] = str(best_pretrained())
    at.run()
    assert _box(at) == str(best_pretrained())


def test_a_link_to_a_model_shows_it_in_the_box() -> None:
    """``?model=mnist-tutorial`` opens that model with the box showing it."""
    at = new_app()
    at.query_params["model"] = "mnist-tutorial"
    at.run()
    assert not at.exception
    assert _box(at) == OTHER
