"""Helpers shared by the AppTest tests."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from streamlit.runtime.scriptrunner import ScriptRunnerEvent
from streamlit.runtime.state.session_state import STREAMLIT_INTERNAL_KEY_PREFIX
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import app_test as app_test_module

from vaeapp.core.text import WORD_JOINER

ROOT = Path(__file__).resolve().parents[2]


def shown(markdown: str) -> str:
    """Markdown source as the reader sees its characters: backslash escapes
    and word joiners (which :func:`vaeapp.core.text.plain` adds to outside text)
    removed."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace(WORD_JOINER, "")


def new_app() -> AppTest:
    """The app, not yet run."""
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)


def walk(node: Any, kind: str) -> Iterator[Any]:
    """Every element of type ``kind`` under ``node``."""
    if getattr(node, "type", None) == kind:
        yield node
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for child in children.values():
            yield from walk(child, kind)


def _component_node(at: AppTest, name: str, key: str | None = None) -> Any:
    for root in at._tree.children.values():
        for node in walk(root, "bidi_component"):
            # An element's id ends with its user key (the page may hold one
            # component several times: the explorer and the compare maps).
            mine = key is None or node.proto.id.endswith(f"-{key}")
            if node.proto.component_name == name and mine:
                return node
    raise AssertionError(f"component {name} (key {key}) not on the page")


def component_data(at: AppTest, name: str, key: str | None = None) -> Any:
    """The data last sent to the v2 component called ``name`` (the first on
    the page, or the one with widget key ``key``)."""
    return json.loads(_component_node(at, name, key).proto.json)


def send_event(
    at: AppTest, name: str, event: str, value: Any, key: str | None = None
) -> AppTest:
    """Run the app as if the browser side of component ``name`` (the first,
    or the one keyed ``key``) had sent ``event`` with ``value`` (what
    ``setTriggerValue(event, value)`` sends)."""
    node = _component_node(at, name, key)
    states = at._tree.get_widget_states()
    trigger = states.widgets.add()
    # The id Streamlit gives a v2 component's trigger widget (see
    # streamlit.components.v2.bidi_component.main._make_trigger_id).
    trigger.id = f"{STREAMLIT_INTERNAL_KEY_PREFIX}_{node.proto.id}__events"
    trigger.json_trigger_value = json.dumps([{"event": event, "value": value}])
    return at._run(states)


@contextmanager
def recorded_runs(
    at: AppTest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[list[str]]]:
    """Record each script run completed inside the block: the sorted keys of
    the fragments it ran, or ``["app"]`` for a full run of the script.

    AppTest starts every interaction as a full run; a callback's targeted
    rerun stops it before the script body runs (a browser sends the event as a
    fragment run already), so only completed runs count.
    """
    runs: list[list[str]] = []
    base = app_test_module.LocalScriptRunner

    class Recording(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            started: list[str] = []

            def record(sender: Any, event: Any, **data: Any) -> None:
                if event == ScriptRunnerEvent.SCRIPT_STARTED:
                    names = at._fragment_storage._target_key_by_id
                    ids = data.get("fragment_ids_this_run") or []
                    started[:] = sorted(names.get(i, i) for i in ids)
                elif event == ScriptRunnerEvent.SCRIPT_STOPPED_WITH_SUCCESS:
                    runs.append(["app"])
                elif event == ScriptRunnerEvent.FRAGMENT_STOPPED_WITH_SUCCESS:
                    runs.append(list(started))

            self.on_event.connect(record, weak=False)

    with monkeypatch.context() as patch:
        patch.setattr(app_test_module, "LocalScriptRunner", Recording)
        yield runs


def explorer_data(at: AppTest) -> dict:
    """The latent explorer's data (sent as a one-item list)."""
    return component_data(at, "vaeapp.latent_explorer")[0]


def run_until_warning(at: AppTest, text: str, timeout: float = 180) -> None:
    """Rerun every second until a warning containing ``text`` shows."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(1)
        at.run()
        if any(text in shown(w.value) for w in at.warning):
            return
    pytest.fail(f"no warning with {text!r} within {timeout:.0f} s")


def open_tool(at: AppTest, label: str) -> AppTest:
    """Open the tool tab called ``label`` (only the open tab runs) and rerun."""
    from vaeapp.ui.state import K

    at.session_state[K.TOOLS_TAB] = label
    return at.run()


def fill_retrain_form(
    at: AppTest, *, lr: float = 1e-3, hidden: str = "16", architecture: str = "dense"
) -> None:
    """Open the Retrain expander and set its form for a tiny 1-epoch run (200
    images, batch 50)."""
    from vaeapp.ui.state import K

    at.session_state[K.RETRAIN_OPEN] = True
    at.run()
    fields = {n.label: n for n in at.sidebar.number_input}
    fields["Epochs"].set_value(1)
    fields["Batch size"].set_value(50)
    fields["Learning rate"].set_value(lr)
    fields["Training images"].set_value(200)
    next(t for t in at.sidebar.text_input if t.label == "Hidden widths").set_value(
        hidden
    )
    next(r for r in at.sidebar.radio if r.label == "Architecture").set_value(
        architecture
    )


SLIDERS = "vaeapp.z_sliders"  # the z sliders with the selected image


def sliders_data(at: AppTest) -> dict:
    """The data last sent to the z sliders (z, the server's picture src, ...)."""
    return component_data(at, SLIDERS)[0]


def move_slider(at: AppTest, i: int, value: float) -> AppTest:
    """Run the app as the browser's sliders do once moves of slider ``i`` to
    ``value`` have settled: the ``z`` trigger with the whole z."""
    z = list(sliders_data(at)["z"])
    z[i] = value
    return send_event(at, SLIDERS, "z", z)
