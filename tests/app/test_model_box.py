"""AppTest: the Switch model box shows the active model after every route
that changes it, and picking the model it showed before works again."""

from __future__ import annotations

import shutil
from pathlib import Path

from app_helpers import new_app
from streamlit.testing.v1 import AppTest

from vaeapp.store.format import PRETRAINED_DIR
from vaeapp.store.listing import best_pretrained
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


def _switch_then_slide() -> None:
    """A page whose button switches model before the sliders' callback runs
    (the order of a Retrain poll's switch and a sliders' message queued behind
    it: the browser's sliders are the old model's)."""
    import streamlit as st

    from vaeapp.store.format import PRETRAINED_DIR
    from vaeapp.ui import state

    st.session_state.setdefault(state.K.Z, [0.0, 0.0])
    state.mark_drawn()
    st.button(
        "switch",
        on_click=state.set_active_model,
        args=(str(PRETRAINED_DIR / "mnist-tutorial"),),
    )
    st.button(
        "event", on_click=lambda: st.session_state.update(taken=state.take_event())
    )
    st.button("save", on_click=state.save_z)
    # The sliders' callback once their moves settled (explorer._on_sliders).
    st.button("slide", on_click=state.change_z, args=([2.5, 0.0], 2))


def test_a_slider_message_after_a_switch_is_dropped() -> None:
    """A slider value whose callback runs after a switch dropped the slider
    keys (a finished Retrain) raises nothing and moves no z."""
    at = AppTest.from_function(_switch_then_slide).run()
    at.button[0].click()
    at.button[3].click()
    at.run()
    assert not at.exception
    assert at.session_state[K.ACTIVE_MODEL] == OTHER
    assert at.session_state[K.Z] == [0.0, 0.0]


def test_events_and_saves_after_a_switch_are_dropped() -> None:
    """A component event or "Save z as A" whose callback runs after a switch,
    before the page is drawn again, is ignored: it belongs to the old model."""
    at = AppTest.from_function(_switch_then_slide).run()
    at.button[1].click().run()
    assert at.session_state["taken"] is True
    at.button[0].click()
    at.button[1].click()
    at.button[2].click()
    at.run()
    assert not at.exception
    assert at.session_state["taken"] is False
    assert K.SAVED_Z not in at.session_state
    at.button[1].click().run()
    assert at.session_state["taken"] is True
    at.button[2].click().run()
    assert at.session_state[K.SAVED_Z] == [0.0, 0.0]
