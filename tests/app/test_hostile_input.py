"""Hostile input from the browser: forged component events and crafted URLs
never raise in the script and never put a link or image on the page."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from app_helpers import new_app, send_event
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from vaeapp.store.listing import best_pretrained
from vaeapp.ui.state import K

pytest.importorskip("markdown_it", reason="markdown-it-py is missing")
from markdown_dialect import links_and_images  # noqa: E402  (needs markdown-it)

HOSTILE_TEXT = [
    "http://evil.example/login",
    "user@evil.example",
    "[click](https://evil.example/)",
    "![x](https://evil.example/p.png)",
    "<img src=https://evil.example/p.png>",
    "www.evil.example",
    "https://evil.example",
    ":red[x]",
    "\x00\u202e",
    "9" * 400,
    "1e999",
    "NaN",
]
# Any JSON value (and what Python's json also reads: NaN, infinities, huge ints).
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats()
    | st.sampled_from(HOSTILE_TEXT)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
# Near misses of the shapes the components send, which reach deeper checks.
numbers = st.one_of(
    st.floats(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.integers(-5, 40),
    st.booleans(),
)
near_misses = st.one_of(
    st.lists(st.one_of(numbers, json_values), min_size=2, max_size=3),
    st.lists(numbers, min_size=2, max_size=3),
    st.tuples(st.floats(-10, 10), st.floats(-10, 10), json_values).map(list),
)
payloads = st.one_of(near_misses, json_values)
EVENTS = [
    ("vaeapp.latent_explorer", "commit"),
    ("vaeapp.latent_explorer", "missing"),
    ("vaeapp.grid_click", "cell"),
    ("vaeapp.grid_click", "settings"),
    ("vaeapp.grid_click", "slow"),
    ("vaeapp.grid_click", "missing"),
    ("vaeapp.z_sliders", "z"),
    ("vaeapp.z_sliders", "missing"),
    ("vaeapp.map_loader", "missing"),
]
_SHARED: dict[str, AppTest] = {}
_TEXT_KINDS = ("markdown", "caption", "warning", "error", "info", "success")


def _app(component: str | None = None) -> AppTest:
    """One app for all examples (a fresh one per example would take minutes).
    It runs again only when ``component`` is not in its element tree: each
    forged event is itself a full run, so the tree stays whole after a refusal
    and a second run per example would only double the time."""
    if "at" not in _SHARED:
        _SHARED["at"] = new_app().run()
    at = _SHARED["at"]
    if component is None or not _on_page(at, component):
        at.run()
    return at


def _on_page(at: AppTest, component: str) -> bool:
    return any(
        node.proto.component_name == component
        for root in at._tree.children.values()
        for node in _walk(root, "bidi_component")
    )


def _links_and_images(at: AppTest) -> list[str]:
    """Links and images in every Markdown-rendered text on the page."""
    found = []
    for kind in _TEXT_KINDS:
        for root in at._tree.children.values():
            for element in _walk(root, kind):
                found += links_and_images(element.value)
    return found


def _walk(node: Any, kind: str) -> Any:
    if getattr(node, "type", None) == kind:
        yield node
    for child in (getattr(node, "children", None) or {}).values():
        yield from _walk(child, kind)


@pytest.mark.parametrize(("component", "event"), EVENTS)
def test_forged_component_events_never_raise(component: str, event: str) -> None:
    """Any value a modified client sends for an event is refused without error."""

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        database=None,
    )
    @given(payloads)
    def check(value: Any) -> None:
        at = _app(component)
        send_event(at, component, event, value)
        assert not at.exception, (value, at.exception)
        assert not _links_and_images(at)

    check()


def test_forged_drawings_are_refused_with_a_message() -> None:
    """A forged drawing (not a PNG data URL) is refused as a picture, no error."""

    @settings(max_examples=15, deadline=None, database=None)
    @given(payloads)
    def check(value: Any) -> None:
        at = _app("vaeapp.draw_canvas")
        if not _on_page(at, "vaeapp.draw_canvas"):
            at.session_state[K.TOOLS_TAB] = "Encode your image"
            at.run()
        send_event(at, "vaeapp.draw_canvas", "drawing", value)
        assert not at.exception
        assert not _links_and_images(at)
        assert any("Picture refused" in e.value for e in at.error)

    check()


@pytest.mark.parametrize(
    "value", ["http://evil.example/login", "www.evil.example", "user@evil.example"]
)
def test_a_url_in_z_is_no_link(value: str) -> None:
    """``?z=http://evil.example/login,0`` and the like warn in text, with no link."""
    at = new_app()
    at.query_params["z"] = f"{value},0"
    at.run()
    assert not at.exception
    assert at.warning, "the bad z is said"
    assert not _links_and_images(at)


@settings(max_examples=30, deadline=None, database=None)
@given(st.lists(st.sampled_from(HOSTILE_TEXT) | st.text(max_size=20)).map(",".join))
def test_a_crafted_url_shows_plain_text_only(text: str) -> None:
    """``?z=`` with Markdown, HTML or huge numbers starts the page without error,
    and its message renders no link or image."""
    at = new_app()
    at.query_params["z"] = text
    at.run()
    assert not at.exception
    assert not _links_and_images(at)
    assert len(at.session_state[K.Z]) == 2


def test_a_model_named_like_a_url_is_no_link(isolated_home: Path) -> None:
    """A model folder called ``www.evil.example`` (any visitor can upload one)
    is named in the caption and the sidebar as text, with no link."""
    shutil.copytree(best_pretrained(), isolated_home / "www.evil.example")
    at = new_app()
    at.session_state[K.ACTIVE_MODEL] = str(isolated_home / "www.evil.example")
    at.run()
    assert not at.exception
    named = [c.value for c in at.caption] + [m.value for m in at.sidebar.markdown]
    assert any("evil" in text for text in named), named
    assert not _links_and_images(at)
