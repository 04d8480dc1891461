"""A link opens the page on a model and a z (``?model=NAME&z=...``), the
sidebar makes that link, and its facts show the 5-NN accuracy beside the
majority-class baseline."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from app_helpers import move_slider, new_app, shown, sliders_data, walk
from streamlit.testing.v1 import AppTest

from vaeapp.store.format import PRETRAINED_DIR
from vaeapp.store.listing import best_pretrained
from vaeapp.ui.state import K

pytest.importorskip("markdown_it", reason="markdown-it-py is missing")
from markdown_dialect import links_and_images  # noqa: E402  (needs markdown-it)

TEXT_KINDS = ("markdown", "caption", "warning", "error", "info", "success")
HOSTILE_NAMES = [
    "[click](https://evil.example/)",
    "![x](https://evil.example/p.png)",
    "http://evil.example/login",
    "www.evil.example",
    "user@evil.example",
    "../../etc",
    "/etc/passwd",
    "<img src=https://evil.example/p.png>",
]


def _open(model: str, z: str | None = None) -> AppTest:
    """The app's first run with ``?model=model`` (and ``&z=z``)."""
    at = new_app()
    at.query_params["model"] = model
    if z is not None:
        at.query_params["z"] = z
    return at.run()


def _active(at: AppTest) -> str:
    """The name the sidebar gives as the active model."""
    first = at.sidebar.markdown[0].value
    assert first.startswith("**Active model:** "), first
    return shown(first.removeprefix("**Active model:** "))


def _digit_z(at: AppTest) -> list[float]:
    """The z the selected image was decoded at."""
    return [float(v) for v in sliders_data(at)["z"]]


def _links_and_images(at: AppTest) -> list[str]:
    """Links and images in every Markdown-rendered text on the page."""
    found = []
    for kind in TEXT_KINDS:
        for root in at._tree.children.values():
            for element in walk(root, kind):
                found += links_and_images(element.value)
    return found


def test_a_shipped_name_opens_that_model_at_z() -> None:
    """``?model=mnist-tutorial&z=1.5,-0.5`` opens mnist-tutorial at that z."""
    at = _open("mnist-tutorial", "1.5,-0.5")
    assert not at.exception and not at.warning
    assert _active(at) == "mnist-tutorial"
    assert at.session_state[K.ACTIVE_MODEL] == str(PRETRAINED_DIR / "mnist-tutorial")
    assert _digit_z(at) == [1.5, -0.5]


def test_a_trained_name_opens_that_model(isolated_home: Path) -> None:
    """A model the sidebar lists from the trained-models folder opens by name."""
    isolated_home.mkdir(parents=True)
    shutil.copytree(PRETRAINED_DIR / "mnist-tutorial", isolated_home / "my-model")
    at = _open("my-model")
    assert not at.exception and not at.warning
    assert _active(at) == "my-model"


def test_an_unknown_name_says_so_and_opens_the_default_model() -> None:
    """An unknown name: a plain-text warning, and the default model."""
    at = _open("no-such-model", "1,1")
    assert not at.exception
    assert "no model 'no-such-model'" in shown(at.warning[0].value)
    assert "showing the default model" in at.warning[0].value
    assert _active(at) == best_pretrained().name
    assert _digit_z(at) == [1.0, 1.0]


def test_the_url_is_read_once_per_session() -> None:
    """After the first run the session's choice stands: switching models is
    not undone by the URL, and the warning is not repeated."""
    at = _open("mnist-tutorial")
    assert _active(at) == "mnist-tutorial"
    at.session_state[K.ACTIVE_MODEL] = str(PRETRAINED_DIR / "mnist-deep")
    at.run()
    assert _active(at) == "mnist-deep"
    at = _open("no-such-model")
    assert at.warning
    assert not at.run().warning


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_render_no_link(name: str) -> None:
    """Markdown, URLs, addresses and paths as the name: no link or image on
    the page, the default model, no error."""
    at = _open(name)
    assert not at.exception
    assert at.warning and not _links_and_images(at)
    assert _active(at) == best_pretrained().name


def test_a_model_named_like_a_host_opens_without_a_link(isolated_home: Path) -> None:
    """A trained model called ``www.evil.example`` (any visitor can upload
    one) opens by name; neither the page nor its view link holds a link."""
    isolated_home.mkdir(parents=True)
    shutil.copytree(best_pretrained(), isolated_home / "www.evil.example")
    at = _open("www.evil.example")
    at.toggle(key=K.VIEW_LINK).set_value(True).run()
    assert not at.exception and not _links_and_images(at)
    assert _active(at) == "www.evil.example"
    assert at.sidebar.code[0].value.startswith("?model=www.evil.example&z=")


def test_the_view_link_names_the_model_and_current_z() -> None:
    """The "Link to this view" switch shows the link to the model at the
    current z, and that link opens the same view."""
    at = _open("mnist-tutorial")
    move_slider(at, 0, 2.5)
    at.run()  # the slider's rerun draws its views only; the sidebar comes back
    at.toggle(key=K.VIEW_LINK).set_value(True).run()
    link = at.sidebar.code[0].value
    query = parse_qs(urlsplit(link).query)
    assert query == {"model": ["mnist-tutorial"], "z": ["2.5,0"]}
    again = _open(query["model"][0], query["z"][0])
    assert _active(again) == "mnist-tutorial" and _digit_z(again) == [2.5, 0.0]


def test_a_trained_model_named_like_a_shipped_one_gets_no_link(
    isolated_home: Path,
) -> None:
    """A trained folder named ``mnist-deep`` cannot be named by a link (the
    shipped model has that name): the sidebar says so instead of a link."""
    isolated_home.mkdir(parents=True)
    folder = isolated_home / "mnist-deep"
    shutil.copytree(PRETRAINED_DIR / "mnist-tutorial", folder)
    at = new_app()
    at.session_state[K.ACTIVE_MODEL] = str(folder)
    at.run()
    at.toggle(key=K.VIEW_LINK).set_value(True).run()
    assert not at.sidebar.code
    assert any("No link can name this model" in c.value for c in at.sidebar.caption)


def test_the_sidebar_shows_the_5nn_accuracy_beside_its_baseline() -> None:
    """The active model's facts give the 5-NN accuracy and the majority-class
    baseline (MNIST's test set: 11.35 %)."""
    at = new_app().run()
    facts = shown(at.sidebar.markdown[1].value)
    line = next(row for row in facts.splitlines() if "5-NN accuracy" in row)
    assert "on the map (majority-class baseline 11.35%)" in line


def test_the_link_keeps_the_pages_address_and_adds_a_root_slash() -> None:
    """The link is the browser's address (a bare host gets its "/") with
    ``?model=`` and ``z`` rounded to 4 decimals; without an address, relative."""
    from vaeapp.ui.sidebar.model_panel import view_link

    z = [1.5, -0.123456]
    assert view_link("http://h:1", "m", z) == "http://h:1/?model=m&z=1.5,-0.1235"
    assert view_link("https://h/app", "m", z).startswith("https://h/app?model=m&")
    assert view_link(None, "m", [0.0, 0.0]) == "?model=m&z=0,0"
