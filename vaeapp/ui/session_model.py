"""Which model a session explores, loaded once per server and shared."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from vaeapp.core.text import plain
from vaeapp.store.disk import mark_used
from vaeapp.store.format import (
    CONFIG_FILE,
    PRETRAINED_DIR,
    ModelFolderError,
    trained_dir,
)
from vaeapp.store.listing import Listing, best_pretrained, find_model, list_models
from vaeapp.store.reading import load_model
from vaeapp.store.records import LoadedModel
from vaeapp.store.writing import remove_stale_temps
from vaeapp.ui import state


@st.cache_resource(show_spinner=False)
def _startup_cleanup(trained: str) -> list[Path]:
    """Once per server (and models folder): delete temporary folders left by
    killed writers."""
    return remove_stale_temps(Path(trained))


@st.cache_resource(show_spinner=False, max_entries=16)
def _load(path: str, stamp: float) -> LoadedModel:
    return load_model(Path(path))


def load_cached(path: Path) -> LoadedModel:
    """Load ``path`` (cached per folder and its config's modification time)."""
    try:
        stamp = (Path(path) / CONFIG_FILE).stat().st_mtime
    except OSError:
        raise ModelFolderError(f"{Path(path).name}: {CONFIG_FILE} is missing") from None
    return _load(str(path), stamp)


@st.cache_data(show_spinner=False, ttl=3)
def _listings(trained: str) -> list[Listing]:
    return list_models(PRETRAINED_DIR) + list_models(Path(trained))


def listings() -> list[Listing]:
    """Pretrained then trained model folders, usable or not (cached for 3 s)."""
    return _listings(str(trained_dir()))


def listings_clear() -> None:
    """Forget cached listings (after a model was added)."""
    _listings.clear()


def default_model_path() -> Path:
    return best_pretrained("mnist")


URL_MODEL = "model"  # the query parameter that opens the page on a model


def url_model() -> str | None:
    """The folder the URL's ``?model=NAME`` names, or None (none given, or
    unusable: said in a plain-text warning).

    A name only, looked up as every command looks up ``--model``
    (:func:`vaeapp.store.listing.find_model`: shipped, then trained): a URL never
    opens a folder by its path.
    """
    text = st.query_params.get(URL_MODEL)
    if text is None:
        return None
    try:
        return str(find_model(text, names_only=True))
    except ValueError as error:
        st.warning(plain(f"URL parameter model: {error}; showing the default model."))
        return None


def active_model() -> LoadedModel | None:
    """The session's model; falls back to the best pretrained one if it fails.

    A session's first run (no model chosen yet) opens the URL's
    ``?model=``, if it names one; later runs keep the session's choice.
    """
    _startup_cleanup(str(trained_dir()))
    chosen = state.active_model_path() or url_model()
    if chosen:
        try:
            model = load_cached(Path(chosen))
            state.set_active_model(chosen)  # the URL's, from now on the session's
            # Shown to a live session: never removed to make room on disk.
            mark_used(model.record.path)
            return model
        except ModelFolderError as error:
            state.say(f"Model {Path(chosen).name} is unusable: {error}")
            state.set_active_model(None)
    try:
        path = default_model_path()
        state.set_active_model(str(path))
        return load_cached(path)
    except ModelFolderError as error:
        st.error(plain(error))
        return None


def switch_to(path: str | Path) -> None:
    """Make ``path`` the session's model; z restarts at the origin."""
    state.set_active_model(str(path))
