"""The sidebar's Retrain section: the form, the running job's progress, the outcome.

:func:`preset_choice` offers the presets, :func:`retrain_form` draws the form
(its architecture fields filled from the chosen preset) and returns the
configs the person chose; :func:`start` starts the job; :func:`retrain_section`
wires them together with the job's progress, the time left and the run's notes
on what it decided, which other sessions see too (only the starter may
cancel). The form's fields, limits and defaults come from the config fields
(:func:`vaeapp.core.config.settings`).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from vaeapp.core.config import (
    BATCH_MAX,
    BUILTIN_DATASETS,
    DEFAULT_PRESET,
    PRESET_NAMES,
    ModelConfig,
    RefineConfig,
    TrainConfig,
    check_batch_size,
    parse_widths,
    preset_summary,
)
from vaeapp.core.settings import Setting, form_default, settings
from vaeapp.core.text import plain
from vaeapp.data.errors import DataError
from vaeapp.data.sources import TITLES, availability, configured_datasets, env_var
from vaeapp.jobs import runner as jobs
from vaeapp.jobs.progress import (
    CANCELLED,
    DONE,
    FAILED,
    Progress,
    duration,
    read_progress,
)
from vaeapp.store.format import held_out_curve
from vaeapp.ui import state
from vaeapp.ui.session_model import switch_to
from vaeapp.ui.sidebar.interrupted import interrupted_section
from vaeapp.ui.state import K

POLL_SECONDS = 1.0  # how often a running job's progress is read
REFINE_LABEL = "Refine q per image"
PRESET_LABEL = "Preset"
# How often an idle page looks for a run started elsewhere (another session or
# replica), so that its form gives way to the run's progress.
IDLE_POLL_SECONDS = 10.0
BUSY_NOTE = (
    "Retrain is busy: one training run at a time on this server's models "
    "folder. Its progress shows here; the form comes back when it ends."
)


# The form.


@dataclass(frozen=True)
class Choice:
    """What the person asked to train."""

    model: ModelConfig
    train: TrainConfig
    refine: RefineConfig | None = None


def offered_datasets() -> tuple[str, ...]:
    """The data sets the form can offer: the built-in ones and every own set
    this server names with a ``VAEAPP_<NAME>_DATA`` variable."""
    return tuple(dict.fromkeys((*BUILTIN_DATASETS, *configured_datasets())))


def _data_env() -> tuple[tuple[str, str | None], ...]:
    """What decides where training data comes from (the cache key below)."""
    names = [env_var(name) for name in offered_datasets()] + ["KERAS_HOME"]
    return tuple((name, os.environ.get(name)) for name in names)


@st.cache_data(show_spinner=False, ttl=60)
def _data_problems(env: tuple[tuple[str, str | None], ...]) -> dict[str, str | None]:
    """Per data set, why training data cannot be had here (None: it can)."""
    problems = {}
    for name in offered_datasets():
        try:
            problems[name] = availability(name)
        except DataError as error:
            problems[name] = str(error)
    return problems


def _missing_data_note(missing: list[str]) -> None:
    """Say, to someone on the web page, which data sets this server lacks and
    who can add them (plain text: the names come from the environment)."""
    st.info(
        "Only the data sets this server has can be trained on here. Its "
        "administrator can add one by setting its environment variable to a "
        "copy of the data and restarting the app:"
    )
    names = "\n".join(env_var(name) for name in missing)
    st.code(names, language=None, wrap_lines=True)


def _choice_name(value: str) -> str:
    """How a choice is shown: a data set by its title, others as they are."""
    return TITLES.get(value, value)


def _label(spec: Setting) -> str:
    """The form's label of a config field."""
    return spec.label or spec.name.capitalize()


def _field(
    field: Any, spec: Setting, choices: tuple[str, ...] = (), start: Any = None
) -> Any:
    """One form widget for a config field, the sidebar's full width (in two
    columns drop-downs and long labels were cut off), starting at ``start``
    (None: the field's form default); returns its value as the field's type."""
    label = _label(spec)
    default = form_default(field, spec) if start is None else start
    choices = choices or spec.choices
    if choices:
        index = choices.index(default) if default in choices else 0
        if len(choices) <= 2:
            return st.radio(
                label,
                choices,
                index=index,
                horizontal=True,
                help=spec.help,
                format_func=_choice_name,
            )
        return st.selectbox(
            label, choices, index=index, help=spec.help, format_func=_choice_name
        )
    if isinstance(default, bool):
        return st.checkbox(label, default, help=spec.help)
    if isinstance(default, tuple):
        text = ",".join(str(v) for v in default)
        return st.text_input(label, text, help=f"{spec.help}; e.g. 256 or 512,256")
    number = int if isinstance(default, int) else float
    options: dict[str, Any] = {"help": spec.help}
    if spec.step is not None:
        options["step"] = number(spec.step)
    if number is float:
        options["format"] = "%g"
    return st.number_input(
        label, number(spec.low), number(spec.high), number(default), **options
    )


def preset_choice() -> str:
    """Offer the presets (outside the form, so that choosing one fills the
    form's architecture fields at once); return the chosen one."""
    filled = ", ".join(
        _label(spec) for _, spec in settings(ModelConfig) if spec.preset and spec.form
    )
    return st.selectbox(
        PRESET_LABEL,
        PRESET_NAMES,
        index=PRESET_NAMES.index(DEFAULT_PRESET),
        help=f"{preset_summary()}. It fills {filled} below; you may change them.",
    )


def retrain_form(
    datasets: tuple[str, ...], preset: str = DEFAULT_PRESET
) -> Choice | None:
    """Draw the Retrain form, offering the data sets ``datasets``, its
    architecture fields (those a preset sets) starting at ``preset``'s
    values; return the checked configs when it was submitted.

    The button is disabled when there is no data set to offer. A value the
    configs refuse is reported in the form and gives None.
    """
    chosen: dict[type, dict[str, Any]] = {TrainConfig: {}, ModelConfig: {}}
    layers = ModelConfig.preset(preset)
    with st.form(K.RETRAIN_FORM):
        for cls, values in chosen.items():
            for field, spec in settings(cls):
                if spec.form:
                    offer = datasets if field.name == "dataset" else ()
                    start = getattr(layers, field.name) if spec.preset else None
                    values[field.name] = _field(field, spec, offer, start)
        refine = st.checkbox(
            REFINE_LABEL,
            False,
            help="After training, refine each image's q(z|x) with "
            f"{RefineConfig().steps} Adam steps on its own negative ELBO: a lower "
            "held-out negative ELBO and a truer map, at some milliseconds more "
            "for each picture encoded (dense models only)",
        )
        submitted = st.form_submit_button(
            "Retrain", type="primary", disabled=not datasets
        )
    if not submitted:
        return None
    try:
        model_values = _with_preset_only(dict(chosen[ModelConfig]), layers)
        model_values["hidden"] = parse_widths(model_values["hidden"])
        model = ModelConfig(**model_values)
        if refine and model.architecture != "dense":
            raise ValueError("refining q per image needs a dense model")
        choice = Choice(
            model,
            TrainConfig(**chosen[TrainConfig]),
            RefineConfig() if refine else None,
        )
        check_batch_size(choice.train, BATCH_MAX)
    except ValueError as error:
        st.error(f"Cannot train: {plain(error)}")
        return None
    return choice


def _with_preset_only(values: dict[str, Any], layers: ModelConfig) -> dict[str, Any]:
    """The form's model ``values`` with the settings the preset ``layers``
    sets but the form does not show (a conv preset's filters), while the
    form keeps the preset's architecture; for another architecture, the
    defaults."""
    if values.get("architecture") != layers.architecture:
        return values
    for field, spec in settings(ModelConfig):
        if spec.preset and not spec.form:
            values.setdefault(field.name, getattr(layers, field.name))
    return values


def start(choice: Choice) -> None:
    """Start training ``choice`` and follow it; say why if it cannot start."""
    _data_problems.clear()
    if _data_problems(_data_env()).get(choice.train.dataset, "unknown"):
        st.error(
            f"Cannot train: this server has no {choice.train.dataset} data; its "
            f"administrator can set `{env_var(choice.train.dataset)}`."
        )
        return
    name = (
        f"{choice.train.dataset}-z{choice.model.latent_dim}-"
        f"{time.strftime('%Y%m%d-%H%M%S')}"
    )
    try:
        job = jobs.start_job(choice.model, choice.train, name, refine=choice.refine)
    except jobs.Busy as busy:
        st.warning(f"Busy: {plain(busy)}. Its progress is shown below.")
        return
    except (ValueError, OSError) as error:
        st.error(f"Cannot start training: {plain(error)}")
        return
    state.set_watched_job(job)
    st.rerun()


# The running job and its outcome.


def _curves(history: list[dict[str, float]]) -> go.Figure:
    epochs = [row["epoch"] for row in history]
    figure = go.Figure()
    held_out = held_out_curve(history)
    curves = [("recon", "reconstruction"), ("kl", "KL")] + [held_out] * bool(held_out)
    for key, label in curves:
        figure.add_scatter(
            x=epochs,
            y=[row.get(key) for row in history],
            name=label,
            mode="lines+markers",
        )
    figure.update_layout(
        height=220,
        margin=dict(l=10, r=10, t=10, b=10),
        legend=dict(orientation="h"),
        xaxis_title="epoch",
    )
    return figure


def _cancel(key: str) -> None:
    jobs.cancel_job(key)


def _job_status(was_running: bool) -> None:
    """Progress of the running job; when one starts or ends while the page
    shows the other state (``was_running`` at its last full run), a full
    rerun, so that the form and the progress swap."""
    job = jobs.current_job()
    watched = state.watched_job()
    if job is not None and not was_running:
        state.set_watched_job(job)
        st.rerun(scope="app")
    if job is not None:
        mine = watched is not None and watched.key != "" and watched == job
        if not mine:
            state.set_watched_job(job)  # follow it, to redraw the page when it ends
        st.markdown(
            f"**Training** {plain(job.name)}" + ("" if mine else " (started elsewhere)")
        )
        if not mine:
            st.caption(BUSY_NOTE)
        progress = job.progress()
        show_progress(progress)
        if mine:
            st.button(
                "Cancel training",
                key=K.CANCEL_TRAINING,
                on_click=_cancel,
                args=(watched.key,),
            )
        return
    if watched is not None:
        state.set_watched_job(None)
        if watched.key:
            _report_outcome(watched)
        st.rerun(scope="app")


def progress_text(progress: Progress) -> str:
    """The progress bar's words: the epoch and, once timed, the time left."""
    epoch = min(progress.epoch + 1, progress.epochs)
    left = progress.seconds_left
    ahead = f" · about {duration(left)} left" if left else ""
    return f"epoch {epoch} of {progress.epochs}{ahead}"


def show_progress(progress: Progress | None) -> None:
    """The running job's bar, curves and notes on what it decided."""
    if progress is not None and progress.epochs:
        done = progress.epoch + (0 if progress.fraction >= 1 else progress.fraction)
        st.progress(min(1.0, done / progress.epochs), text=progress_text(progress))
        if progress.history:
            st.plotly_chart(_curves(progress.history), key=K.TRAIN_CURVES)
    else:
        st.progress(0.0, text="starting (loading TensorFlow and data)…")
    for note in progress.notes if progress is not None else ():
        st.caption(plain(note))


def _report_outcome(job: jobs.Job) -> None:
    """Switch to the finished model, or say why there is none."""
    progress = read_progress(Path(job.progress_path))
    if progress is not None and progress.state == DONE:
        switch_to(progress.model_path)
        message = f"Training finished: now exploring {job.name}. {progress.message}"
        message = message.strip()
    elif progress is not None and progress.state == CANCELLED:
        message = (
            "Training cancelled; nothing was published. Runs cancelled after an "
            "epoch can be continued under Retrain."
        )
    elif progress is not None and progress.state == FAILED:
        message = f"Training failed: {progress.message}"
    else:
        message = "Training ended without a result; nothing was published."
    state.say(message)


def retrain_section() -> None:
    """The running job's progress, or (while none runs) the Retrain expander."""
    running = jobs.current_job() is not None or state.watched_job() is not None
    poll = POLL_SECONDS if running else IDLE_POLL_SECONDS
    state.fragment(run_every=poll)(_job_status)(running)
    if running:
        return
    # Built only while open: a closed form's dozen widgets would otherwise be
    # re-rendered by the browser on every move of z.
    expander = st.expander("Retrain", key=K.RETRAIN_OPEN, on_change="rerun")
    if not expander.open:
        return
    with expander:
        interrupted_section()
        problems = _data_problems(_data_env())
        missing = [name for name, problem in problems.items() if problem]
        if missing:
            _missing_data_note(missing)
        preset = preset_choice()
        choice = retrain_form(tuple(n for n in problems if n not in missing), preset)
        if choice is not None:
            start(choice)
