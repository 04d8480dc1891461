"""The page's state: every ``st.session_state`` key, and typed access to it.

No other module reads or writes ``st.session_state``. Widgets are given their
keys from :class:`K`; values are read and written through the functions below.
What can be computed from the stored values (the prior samples from their seed,
the interpolation path from its ends, the map's plane) is computed, not stored.

A change that several views depend on goes through one function here, which
reruns exactly the keyed fragments that show it (:data:`Views`): a change of z
through :func:`change_z`, an overlay on the map through :func:`redraw`.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np
import streamlit as st

from vaeapp.core.latent import Z_LIMIT, clean_z
from vaeapp.explore.manifold import GRID_N_DEFAULT, GRID_Q_DEFAULT, SPACINGS, check_grid
from vaeapp.explore.projection import PCA, UMAP, VIEWS

if TYPE_CHECKING:
    from vaeapp.jobs.runner import Job


class K(StrEnum):
    """Every session-state key; widgets get theirs from here."""

    # Values the app keeps
    Z = "z"  # list[float]: the current latent point, all dimensions
    Z_LIMIT = "z_limit"  # float: the active model's range of z, +-this
    ACTIVE_MODEL = "active_model"  # str: path of the model this session explores
    DRAWN_MODEL = "drawn_model"  # str: the active model at the last full run
    SENT_TOKENS = "sent_tokens"  # set[str]: models whose browser assets were sent
    MAP_LIB_SENT = "map_lib_sent"  # bool: regl-scatterplot was sent to this browser
    MAP_DIMS = "map_dims"  # tuple[int, int]: latent dimensions shown on the map
    MESSAGE = "message"  # str: a notice to show once (e.g. a clamped z)
    URL_READ = "url_read"  # bool: the URL's ?z= was read (once per session)
    SAVED_Z = "saved_z"  # list[float]: point A for interpolation
    SHOW_PATH = "shown_path"  # PathChoice: the interpolation drawn on the map
    SAMPLES = "samples"  # (count, temperature, seed) of the shown prior samples
    OWN_DIGIT = "own_digit"  # flat float array: the user's picture, prepared
    OWN_ERROR = "own_error"  # str: why the user's last picture was refused
    INSPECT = "inspect_index"  # int: the test image picked on the map
    WATCHED_JOB = "retrain_watch"  # jobs.Job: the training run this session follows
    UPLOAD_RESULT = "model_upload_result"  # str: outcome of the last model upload
    COMPARE_INDEX = "compare_index"  # int: the test image marked in the compare view
    SELECTION = "map_selection"  # np.ndarray int64: test images lassoed on the map
    MAP_FOCUS = "map_focus"  # (index, serial): the point a search flies the map to
    IMAGE_CHUNKS = "image_chunks"  # dict[int, str]: URLs of image chunks asked for
    # Widgets
    MAP_VIEW = "map_view"  # what the map shows: one of VIEWS, or UMAP
    MAP_PICK = "map_pick"  # str: what the last click on a stored plane selected
    COLOUR_BY = "colour_by"  # -1: the map by class; f: by the data's factor f
    MAP_X = "map_x"
    MAP_Y = "map_y"
    GRID_N = "grid_n"
    GRID_Q = "grid_q"
    GRID_SPACING = "grid_spacing"
    GRID_SHOW_EXTENT = "grid_show_extent"
    GRID_BY_SERVER = "grid_by_server"  # bool: the browser decodes too slowly
    TOOLS_TAB = "tools_tab"  # the label of the open tool tab
    RETRAIN_OPEN = "retrain_open"  # the sidebar's Retrain expander is open
    MODEL_PICK = "model_pick"
    MODEL_UPLOAD = "model_upload"
    INTERP_STEPS = "interp_steps"
    INTERP_SOURCE = "interp_source"
    INTERP_I = "interp_i"
    INTERP_J = "interp_j"
    SAMPLE_COUNT = "sample_count"
    SAMPLE_TEMP = "sample_temp"
    SNAPSHOT_EPOCH = "snapshot_epoch"
    DRAW_CANVAS = "draw_canvas"
    OWN_UPLOAD = "own_upload"
    INTERP_GIF = "interp_gif"  # the interpolation plays as an animated GIF
    SWEEP_DIM = "sweep_dim"  # the latent dimension an axis sweep moves
    SWEEP_FRAMES = "sweep_frames"
    COMPARE_OPEN = "compare_open"  # the compare view's expander is open
    COMPARE_PICK = "compare_pick"  # the path of the model compared with
    # Buttons, charts and containers (keyed so that reruns keep them)
    INSPECT_PANEL = "inspect_panel"
    INSPECT_CLOSE = "inspect_close"
    TRAIN_CURVES = "train_curves"
    CANCEL_TRAINING = "cancel_training"
    CONTINUE_RUN = "continue_run_"  # + a run's identity: continue it
    DISCARD_RUN = "discard_run_"  # + a run's identity: delete its checkpoint
    SAVE_A = "save_a"
    PATH_BUTTON = "show_path"
    DRAW_SAMPLES = "draw"
    CLEAR_SAMPLES = "clear_samples"
    HISTORY_CHART = "history_chart"
    KL_CHART = "kl_chart"
    OWN_GO = "own_go"
    DOWNLOAD_IMAGE = "download_digit"
    DOWNLOAD_GRID = "download_grid"
    DOWNLOAD_STRIP = "download_strip"
    INTERP_STRIP = "interp_strip"  # the interpolation's images, side by side
    DOWNLOAD_MODEL = "download_model"
    DOWNLOAD_EXPORT = "download_export"  # the model as one HTML file
    VIEW_LINK = "view_link"  # the switch that shows a link to the model at z
    DOWNLOAD_INTERP_GIF = "download_interp_gif"
    DOWNLOAD_SWEEP_GIF = "download_sweep_gif"
    SWEEP_PATH_BUTTON = "show_sweep"
    COMPARE_MAP_A = "compare_map_a"  # the compare view's map of the active model
    COMPARE_MAP_B = "compare_map_b"  # ... and of the model compared with
    COMPARE_TABLE = "compare_table"
    COMPARE_CURVES = "compare_curves"
    COMPARE_IMAGE = "compare_image_"  # + 0, 1, 2: the test image, A's, B's
    RETRAIN_FORM = "retrain"
    MAP_LOADER = "map_loader"  # the component that sends the map's library
    EXPLORER = "explorer"  # the latent map component
    GRID = "grid"  # the manifold grid component
    SELECTION_PAGE = "selection_page"  # the page of the selection's image grid
    SELECTION_MEAN = "selection_mean"  # the button moving z to the selection's mean
    SELECTION_CSV = "selection_csv"
    SELECTION_CLEAR = "selection_clear"
    Z_SLIDERS = "z_sliders"  # the z sliders with the selected image


class Views(StrEnum):
    """Keys of the page's fragments, for targeted reruns."""

    EXPLORER = "explorer_view"  # map, selected digit, sliders, inspection panel
    GRID = "grid_view"  # the manifold grid and its controls
    TOOLS = "tools_view"  # the tool tabs
    COMPARE = "compare_view"  # two models side by side


_state = st.session_state


# --- z ---------------------------------------------------------------------


def z() -> np.ndarray:
    """The current latent point ``(latent_dim,)`` float32."""
    return np.asarray(_state[K.Z], np.float32)


def stored_z() -> object:
    """z as stored, unchecked (None before the first run or after a switch)."""
    return _state.get(K.Z)


def z_limit() -> float:
    """The active model's range of z, +-this (its ``LoadedModel.z_limit``)."""
    return float(_state.get(K.Z_LIMIT, Z_LIMIT))


def set_z_limit(limit: float) -> None:
    """Keep the active model's range of z (each full run, before z is read)."""
    _state[K.Z_LIMIT] = float(limit)


def has_z(latent_dim: int) -> bool:
    """Whether a usable z of ``latent_dim`` values is set."""
    current = _state.get(K.Z)
    if current is None:
        return False
    _, problem = clean_z(current, latent_dim, z_limit())
    return problem is None


def take_url_read() -> bool:
    """Whether the URL's z was read before; marks it read."""
    before = bool(_state.get(K.URL_READ))
    _state[K.URL_READ] = True
    return before


def _store_z(values: object, latent_dim: int) -> None:
    """Validate ``values`` and keep it as z (a refused or clamped value is
    said on the page)."""
    point, problem = clean_z(values, latent_dim, z_limit())
    if problem:
        say(problem)
    _state[K.Z] = point


def init_z(values: object, latent_dim: int) -> None:
    """Set z during a full run (start, URL, a model of another size)."""
    _store_z(values, latent_dim)


def views_of_z(latent_dim: int) -> list[Views]:
    """The fragments that show something computed from z: the map's marker,
    digit, sliders and inspection panel; the neighbours and interpolation
    tools; the grid when it holds the other dimensions at z."""
    views = [Views.EXPLORER, Views.TOOLS]
    if latent_dim > 2:
        views.append(Views.GRID)
    return views


def change_z(values: object, latent_dim: int) -> NoReturn:
    """The one way z changes after the page is drawn (slider, map click,
    grid cell, a tool): validate, store, and rerun exactly the views of z.

    Call from a widget callback only: the targeted rerun replaces the
    interaction's own rerun.
    """
    if replaced():  # a z of the old model: the new one's page comes instead
        st.rerun(scope="app")
    _store_z(values, latent_dim)
    st.rerun(scope=[str(v) for v in views_of_z(latent_dim)])


def redraw(views: Iterable[Views]) -> NoReturn:
    """From a callback: rerun only ``views`` instead of the default."""
    st.rerun(scope=[str(v) for v in views])


# --- component events ------------------------------------------------------

# A browser of ours sends one event per message, two when a click lands as a
# release: more in one message are forged. Streamlit calls an event's callback
# once per event in the message, and each read of the component's value walks
# the whole event list, so 10,000 forged events cost 50 s unless all but the
# first few return at once.
EVENTS_PER_MESSAGE = 4


# Counted per script thread, not in session state: an ignored event then costs
# no session-state access (two cost 0.3 s for 10,000 events). A session's
# message is handled, callbacks then run, in its script thread.
_events = threading.local()


def begin_run() -> None:
    """Start of a run (the page's or a fragment's): the callbacks that run
    before the next one are that next message's."""
    _events.count = 0


def fragment(
    view: Views | None = None, run_every: float | None = None
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """``st.fragment`` (keyed ``view``) whose every run calls :func:`begin_run`
    first, drawn in a slot of its own; every fragment of the page is made
    with this.

    The slot is a plain container that every full run draws, so nothing
    after a fragment moves up when the browser loses the fragment's own
    container: Streamlit 1.67 made it lose one when a fragment run started
    right after a full run (vaeapp/ui/rerun_order.py, docs/deployment.md),
    and the next view then landed out of range ("Bad delta path index 6
    (should be between [0, 5])", a blank page) or on the wrong view.
    """

    def make(body: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(body)
        def run(*args: Any, **kwargs: Any) -> None:
            begin_run()
            if replaced():  # its arguments are the old model's
                st.rerun(scope="app")
            body(*args, **kwargs)

        key = None if view is None else str(view)
        made = st.fragment(run, run_every=run_every, key=key)

        @functools.wraps(body)
        def mount(*args: Any, **kwargs: Any) -> None:
            with st.container():
                made(*args, **kwargs)

        return mount

    return make


def take_event() -> bool:
    """Called first by every component event callback: whether this event is
    among the first :data:`EVENTS_PER_MESSAGE` of its message and for the
    model the page shows. Past those, the rest are ignored, said once; those
    for a model a switch replaced, silently (:func:`replaced`)."""
    if replaced():
        return False
    count = getattr(_events, "count", 0) + 1
    _events.count = count
    if count == EVENTS_PER_MESSAGE + 1:
        say(
            f"Ignored the events after the first {EVENTS_PER_MESSAGE} of one "
            "message from the browser (ours sends one or two)."
        )
    return count <= EVENTS_PER_MESSAGE


# --- messages --------------------------------------------------------------


def say(text: str) -> None:
    """Keep ``text`` (plain text) to show once, above the map."""
    _state[K.MESSAGE] = text


def take_message() -> str | None:
    """The notice to show now, if any; it is shown once."""
    return _state.pop(K.MESSAGE, None)


# --- the model -------------------------------------------------------------


def active_model_path() -> str | None:
    """Path of the model this session explores, if one was chosen."""
    value = _state.get(K.ACTIVE_MODEL)
    return value if isinstance(value, str) else None


def set_active_model(path: str | None) -> None:
    """Explore the model at ``path``; everything tied to the old one is reset."""
    if path is None:
        _state.pop(K.ACTIVE_MODEL, None)
        return
    changed = _state.get(K.ACTIVE_MODEL) != str(path)
    _state[K.ACTIVE_MODEL] = str(path)
    if changed:
        for key in (
            K.Z, K.SAVED_Z, K.SHOW_PATH, K.SAMPLES, K.INSPECT, K.OWN_DIGIT,
            K.OWN_ERROR, K.COMPARE_INDEX, K.SELECTION, K.MAP_FOCUS, K.IMAGE_CHUNKS,
            K.MAP_PICK,
        ):  # fmt: skip
            _state.pop(key, None)


def mark_drawn() -> None:
    """A full run draws the active model: from now on the page's widgets,
    fragments and events are its."""
    _state[K.DRAWN_MODEL] = _state.get(K.ACTIVE_MODEL)


def replaced() -> bool:
    """Whether the model was switched (a finished Retrain, the Switch box)
    since the last full run drew the page: until the next one, messages from
    the page's widgets and runs of its fragments are the old model's (a
    fragment's arguments, a slider's size, a click's z), and z is unset."""
    if K.DRAWN_MODEL not in _state:
        return False
    return _state[K.DRAWN_MODEL] != _state.get(K.ACTIVE_MODEL)


def show_model_pick(path: str) -> None:
    """Set the Switch model box to ``path`` (the active model's), before the
    box is drawn in this run."""
    _state[K.MODEL_PICK] = path


def sent_tokens() -> set[str]:
    """Models (and planes) whose assets this browser already has."""
    return _state.setdefault(K.SENT_TOKENS, set())


def forget_sent_tokens() -> None:
    """The browser lost its assets (a reload): send them again."""
    _state[K.SENT_TOKENS] = set()


def take_map_library_send() -> bool:
    """Whether the map's library must be sent to this browser now (once per
    session)."""
    send = not _state.get(K.MAP_LIB_SENT)
    _state[K.MAP_LIB_SENT] = True
    return send


def forget_map_library_sent() -> None:
    """The browser lost the map library's bundle: send it again."""
    _state[K.MAP_LIB_SENT] = False


# --- the map's view --------------------------------------------------------


def map_view() -> str:
    """What the map shows for a model of more than two dimensions: one of
    ``vaeapp.explore.projection.VIEWS`` or its ``UMAP`` (a folder's stored
    plane: the explorer shows PCA for a folder without it), PCA until chosen
    (two raw dimensions of a 20-D model are a blob)."""
    if _state.get(K.MAP_VIEW) not in (*VIEWS, UMAP):
        _state[K.MAP_VIEW] = PCA
    return _state[K.MAP_VIEW]


def set_map_view(view: str) -> None:
    """Show ``view`` (one of VIEWS or UMAP) on the map."""
    if view not in (*VIEWS, UMAP):
        raise ValueError(f"map view must be one of {(*VIEWS, UMAP)}, got {view!r}")
    _state[K.MAP_VIEW] = view


def map_pick() -> str | None:
    """What the last click on a stored plane (UMAP) selected, as a sentence."""
    return _state.get(K.MAP_PICK)


def set_map_pick(text: str | None) -> None:
    """Keep what a click on a stored plane selected (plain text), or forget it."""
    _state[K.MAP_PICK] = text


def map_dims(latent_dim: int) -> tuple[int, int]:
    """The two latent dimensions shown on the map and varied by the grid."""
    x, y = _state.get(K.MAP_DIMS, (0, 1))
    if not (0 <= x < latent_dim and 0 <= y < latent_dim and x != y):
        x, y = 0, 1
    return x, y


def colour_by() -> int:
    """What colours the map's points: -1 for the class, else a factor's index."""
    value = _state.get(K.COLOUR_BY, -1)
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


def set_map_dims(dims: tuple[int, int]) -> None:
    """Show latent dimensions ``dims`` on the map."""
    _state[K.MAP_DIMS] = (int(dims[0]), int(dims[1]))


def picked_map_dims() -> tuple[int, int]:
    """The dimensions in the map's two pickers (read in their callback)."""
    return int(_state[K.MAP_X]), int(_state[K.MAP_Y])


# --- the grid --------------------------------------------------------------


@dataclass(frozen=True)
class GridSettings:
    """The manifold grid's controls: ``n`` cells a side at quantile ``q``."""

    n: int = GRID_N_DEFAULT
    q: float = GRID_Q_DEFAULT
    spacing: str = SPACINGS[0]
    show_extent: bool = False


def init_grid() -> str | None:
    """Grid defaults; a reset, and the reason, if state held bad values."""
    defaults = GridSettings()
    _state.setdefault(K.GRID_N, defaults.n)
    _state.setdefault(K.GRID_Q, defaults.q)
    _state.setdefault(K.GRID_SPACING, defaults.spacing)
    _state.setdefault(K.GRID_SHOW_EXTENT, defaults.show_extent)
    try:
        check_grid(_state[K.GRID_N], _state[K.GRID_Q], _state[K.GRID_SPACING])
    except ValueError as error:
        _state[K.GRID_N], _state[K.GRID_Q] = defaults.n, defaults.q
        _state[K.GRID_SPACING] = defaults.spacing
        return f"{error}; the grid settings were reset."
    return None


def set_grid(n: int, q: float, spacing: str) -> None:
    """Keep the grid's settings as its controls in the browser set them."""
    _state[K.GRID_N], _state[K.GRID_Q], _state[K.GRID_SPACING] = n, q, spacing


def grid_by_server() -> bool:
    """Whether the browser asked for the server's picture of the grid."""
    return bool(_state.get(K.GRID_BY_SERVER))


def set_grid_by_server() -> None:
    """The browser decodes too slowly for the grid: the server draws it."""
    _state[K.GRID_BY_SERVER] = True


def grid() -> GridSettings:
    """The grid's settings as the controls hold them."""
    return GridSettings(
        n=_state[K.GRID_N],
        q=_state[K.GRID_Q],
        spacing=_state[K.GRID_SPACING],
        show_extent=bool(_state.get(K.GRID_SHOW_EXTENT)),
    )


# --- tools -----------------------------------------------------------------


def saved_z() -> np.ndarray | None:
    """Point A of the interpolation, if saved."""
    saved = _state.get(K.SAVED_Z)
    return None if saved is None else np.asarray(saved, np.float32)


def save_z() -> None:
    """Keep the current z as point A (not after a switch: z is the old
    model's)."""
    if replaced():
        return
    _state[K.SAVED_Z] = [float(v) for v in _state[K.Z]]


@dataclass(frozen=True)
class PathChoice:
    """The path drawn on the map: an interpolation from saved A (``source``
    "saved") or between test digits ``i`` and ``j``, to z, in ``steps``
    points; or (``source`` "axis sweep") latent dimension ``i`` swept from -3
    to 3 through z in ``steps`` points."""

    source: str
    steps: int
    i: int = 0
    j: int = 1


def shown_path() -> PathChoice | None:
    """The path (interpolation or axis sweep) drawn on the map, if any."""
    return _state.get(K.SHOW_PATH)


def set_shown_path(choice: PathChoice | None) -> None:
    """Draw the path ``choice`` on the map, or none."""
    if choice is None:
        _state.pop(K.SHOW_PATH, None)
    else:
        _state[K.SHOW_PATH] = choice


def samples() -> tuple[int, float, int] | None:
    """Count, temperature and seed of the prior samples shown, if any."""
    value = _state.get(K.SAMPLES)
    return None if value is None else tuple(value)


def draw_samples() -> None:
    """New samples from the chosen count and temperature, with a fresh seed."""
    seed = (samples() or (0, 0.0, 0))[2] + 1
    _state[K.SAMPLES] = (
        int(_state[K.SAMPLE_COUNT]),
        float(_state[K.SAMPLE_TEMP]),
        seed,
    )


def clear_samples() -> None:
    """Stop showing prior samples."""
    _state.pop(K.SAMPLES, None)


def own_digit() -> np.ndarray | None:
    """The user's preprocessed digit ``(784,)``, if any."""
    return _state.get(K.OWN_DIGIT)


def own_error() -> str | None:
    """Why the user's last picture was refused, if it was."""
    return _state.get(K.OWN_ERROR)


def set_own_digit(digit: np.ndarray | None, error: str | None) -> None:
    """Keep the user's digit, or the reason their picture was refused."""
    if digit is not None:
        _state[K.OWN_DIGIT] = digit
    if error is None:
        _state.pop(K.OWN_ERROR, None)
    else:
        _state[K.OWN_ERROR] = error


def widget(key: K) -> Any:
    """The value a widget holds (read inside that widget's callback)."""
    return _state.get(key)


# --- inspection ------------------------------------------------------------


def inspected() -> object:
    """The raw inspected index (check it against the model before use)."""
    return _state.get(K.INSPECT)


def set_inspected(index: int | None) -> None:
    """Inspect test digit ``index``, or close the panel with None."""
    if index is None:
        _state.pop(K.INSPECT, None)
    else:
        _state[K.INSPECT] = int(index)


# --- the map's selection, search and images -------------------------------


def selection() -> np.ndarray | None:
    """The test images lassoed on the map (int64, ascending) or None."""
    return _state.get(K.SELECTION)


def set_selection(picked: np.ndarray | None) -> None:
    """Keep the map's selection (None: none); its grid opens at page 1."""
    _state.pop(K.SELECTION_PAGE, None)
    if picked is None:
        _state.pop(K.SELECTION, None)
    else:
        _state[K.SELECTION] = picked


def map_focus() -> tuple[int, int] | None:
    """(test index, serial) the map flies to; a new serial flies again."""
    return _state.get(K.MAP_FOCUS)


def focus_map(index: int) -> None:
    """Have the map fly to test point ``index`` on its next render."""
    serial = (_state.get(K.MAP_FOCUS) or (0, 0))[1] + 1
    _state[K.MAP_FOCUS] = (int(index), serial)


def image_chunk_urls() -> dict[int, str]:
    """The URLs of the held-out image chunks this browser asked for."""
    return _state.setdefault(K.IMAGE_CHUNKS, {})


# --- the compare view ------------------------------------------------------


def compare_pick() -> str | None:
    """The path of the model the compare view sets beside the active one."""
    value = _state.get(K.COMPARE_PICK)
    return value if isinstance(value, str) and value else None


def forget_compare_pick() -> None:
    """The picked model is no longer offered (e.g. it became the active one)."""
    _state.pop(K.COMPARE_PICK, None)
    _state.pop(K.COMPARE_INDEX, None)


def compare_index(count: int) -> int | None:
    """The test image marked in the compare view, if it is an index of a test
    set of ``count`` images."""
    value = _state.get(K.COMPARE_INDEX)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 <= value < count else None


def set_compare_index(index: int | None) -> None:
    """Mark test image ``index`` in both of the compare view's maps, or none."""
    if index is None:
        _state.pop(K.COMPARE_INDEX, None)
    else:
        _state[K.COMPARE_INDEX] = int(index)


# --- training and uploads --------------------------------------------------


def watched_job() -> Job | None:
    """The training run this session follows (with its cancel key if this
    session started it), if any."""
    return _state.get(K.WATCHED_JOB)


def set_watched_job(job: Job | None) -> None:
    """Follow ``job``, or stop following."""
    if job is None:
        _state.pop(K.WATCHED_JOB, None)
    else:
        _state[K.WATCHED_JOB] = job


def set_upload_result(text: str, ok: bool) -> None:
    """Keep the outcome of a model upload to show once."""
    _state[K.UPLOAD_RESULT] = (text, ok)


def take_upload_result() -> tuple[str, bool] | None:
    """The outcome of the last model upload, shown once."""
    return _state.pop(K.UPLOAD_RESULT, None)
