"""Helpers shared by the AppTest tests."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


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


def component_data(at: AppTest, name: str) -> Any:
    """The data last sent to the v2 component called ``name``."""
    for node in walk(at._tree[0], "bidi_component"):
        if node.proto.component_name == name:
            return json.loads(node.proto.json)
    raise AssertionError(f"component {name} not on the page")


def explorer_data(at: AppTest) -> dict:
    """The latent explorer's data (sent as a one-item list)."""
    return component_data(at, "vaeapp.latent_explorer")[0]


def run_until_warning(at: AppTest, text: str, timeout: float = 180) -> None:
    """Rerun every second until a warning containing ``text`` shows."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(1)
        at.run()
        if any(text in w.value for w in at.warning):
            return
    pytest.fail(f"no warning with {text!r} within {timeout:.0f} s")


def open_tool(at: AppTest, label: str) -> AppTest:
    """Open the tool tab called ``label`` (only the open tab runs) and rerun."""
    from vaeapp.ui import keys

    at.session_state[keys.TOOLS_TAB] = label
    return at.run()


def fill_retrain_form(
    at: AppTest, *, lr: float = 1e-3, hidden: str = "16", architecture: str = "dense"
) -> None:
    """Open the Retrain expander and set its form for a tiny 1-epoch run (200
    images, batch 50)."""
    from vaeapp.ui import keys

    at.session_state[keys.RETRAIN_OPEN] = True
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
