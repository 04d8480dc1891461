"""The sidebar: the active model, switching models, and retraining."""

from __future__ import annotations

import time
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

from vaeapp import jobs
from vaeapp.config import (
    ARCHITECTURES,
    DATASETS,
    FILTERS_DEFAULT,
    LR_MAX,
    OPTIMIZERS,
    ModelConfig,
    TrainConfig,
    parse_widths,
)
from vaeapp.data import availability
from vaeapp.progress import CANCELLED, DONE, FAILED, read_progress
from vaeapp.store import PRETRAINED_DIR, LoadedModel, trained_dir
from vaeapp.ui import keys
from vaeapp.ui.models import default_model_path, listings, listings_clear, switch_to
from vaeapp.upload import UploadError, import_model_zip, suggest_name

POLL_SECONDS = 1.0
_MODEL_PICK = "model_pick"
_WATCHED_JOB = "watched_job"
BUSY_NOTE = (
    "Retrain is busy: one training run at a time per server. Its progress shows "
    "here; the form comes back when it ends."
)
_SAW_JOB = "saw_job"
_UPLOAD = "model_upload"
_UPLOAD_RESULT = "model_upload_result"


def _model_info(model: LoadedModel) -> None:
    record = model.record
    st.markdown(f"**Active model:** `{record.name}`")
    rows = {
        "Architecture": record.model.describe(),
        "Latent size": record.model.latent_dim,
        "Beta": f"{record.model.beta:g}",
        "Epochs": record.epochs_trained,
        "Test −ELBO": f"{record.test_neg_elbo:.2f} nats",
        "Data": f"{record.dataset} (`{record.data_source.replace('`', '')}`)",
        "Optimizer": f"{record.train.optimizer}, lr {record.train.learning_rate:g}, "
        f"{record.train.schedule}",
    }
    st.markdown("\n".join(f"- {k}: {v}" for k, v in rows.items()))


def _switcher(model: LoadedModel) -> None:
    found = listings()
    usable = [item for item in found if item.record is not None]
    broken = [item for item in found if item.record is None]
    paths = [str(item.path) for item in usable]
    labels = {
        str(item.path): (
            f"{item.name} · {item.record.test_neg_elbo:.1f} nats"
            + (" · pretrained" if item.path.parent == PRETRAINED_DIR else "")
        )
        for item in usable
    }
    current = str(model.record.path)
    if current not in paths:
        paths.insert(0, current)
        labels[current] = model.record.name
    st.selectbox(
        "Switch model",
        paths,
        index=paths.index(current),
        format_func=lambda p: labels.get(p, p),
        key=_MODEL_PICK,
        on_change=lambda: switch_to(st.session_state[_MODEL_PICK]),
    )
    if model.record.path.parent != PRETRAINED_DIR:
        st.button(
            "Restore pretrained model", on_click=lambda: switch_to(default_model_path())
        )
    _upload()
    if broken:
        with st.expander(f"{len(broken)} unusable model folder(s)"):
            for item in broken:
                st.markdown(f"- `{item.name}`: {item.problem}")


@st.cache_data(show_spinner=False, ttl=60)
def _data_problems() -> dict[str, str | None]:
    """Per dataset, why training data cannot be had (None: it can)."""
    return {name: availability(name) for name in DATASETS}


def _import_upload() -> None:
    """Validate and import the uploaded zip; nothing on disk changes if refused."""
    upload = st.session_state.get(_UPLOAD)
    if upload is None:
        return
    parent = trained_dir()
    try:
        path = import_model_zip(
            upload.getvalue(), parent, suggest_name(upload.name, parent)
        )
    except UploadError as error:
        st.session_state[_UPLOAD_RESULT] = f"Upload refused: {error}"
        return
    listings_clear()
    switch_to(path)
    st.session_state[_UPLOAD_RESULT] = f"Imported {path.name}; now exploring it."


def _upload() -> None:
    st.file_uploader(
        "Upload a model zip (made by this app)",
        type=["zip"],
        key=_UPLOAD,
        on_change=_import_upload,
    )
    result = st.session_state.pop(_UPLOAD_RESULT, None)
    if result:
        (st.error if result.startswith("Upload refused") else st.success)(result)


def _retrain_form() -> None:
    problems = _data_problems()
    if all(problems.values()):
        st.warning(f"Retrain cannot run here: {problems[DATASETS[0]]}")
    with st.form("retrain"):
        c1, c2 = st.columns(2)
        epochs = c1.number_input("Epochs", 1, 1000, 5)
        batch = c2.number_input("Batch size", 1, 60000, 100)
        latent = c1.number_input("Latent size", 2, 32, 2)
        hidden = c2.text_input("Hidden widths", "256", help="e.g. 256, or 512,256")
        beta = c1.number_input("Beta", 0.0, 100.0, 1.0, step=0.1)
        lr = c2.number_input(
            "Learning rate", 0.0, LR_MAX, 1e-3, format="%.5f", step=1e-4
        )
        optimizer = c1.selectbox("Optimizer", OPTIMIZERS)
        dataset = c2.selectbox("Data", DATASETS)
        size = c1.number_input("Training images (0: all)", 0, 60000, 10000, step=1000)
        seed = c2.number_input("Seed", 0, 2**31 - 1, 0)
        architecture = st.radio(
            "Architecture",
            ARCHITECTURES,
            horizontal=True,
            help="dense: fully connected layers; conv: two stride-2 convolutions "
            f"({FILTERS_DEFAULT[0]} and {FILTERS_DEFAULT[1]} channels) before "
            "the hidden widths, transposed convolutions in the decoder",
        )
        submitted = st.form_submit_button("Retrain", type="primary")
    if not submitted:
        return
    try:
        hidden_widths = parse_widths(hidden)
        ModelConfig(
            hidden=hidden_widths,
            latent_dim=int(latent),
            beta=float(beta),
            architecture=architecture,
        )
        TrainConfig(
            epochs=int(epochs),
            batch_size=int(batch),
            learning_rate=float(lr),
            optimizer=optimizer,
            train_size=int(size),
            seed=int(seed),
            dataset=dataset,
        )
        limit = int(size) or 60000
        if int(batch) > limit:
            raise ValueError(
                f"batch size {batch} is larger than the {limit} training images"
            )
    except (ValueError, TypeError) as error:
        st.error(f"Cannot train: {error}")
        return
    _data_problems.clear()
    reason = availability(dataset)
    if reason:
        st.error(f"Cannot train: {reason}")
        return
    args = [
        "--architecture",
        architecture,
        "--hidden",
        ",".join(str(w) for w in hidden_widths),
        "--latent-dim",
        str(int(latent)),
        "--beta",
        str(float(beta)),
        "--epochs",
        str(int(epochs)),
        "--batch-size",
        str(int(batch)),
        "--lr",
        str(float(lr)),
        "--optimizer",
        optimizer,
        "--dataset",
        dataset,
        "--train-size",
        str(int(size)),
        "--seed",
        str(int(seed)),
    ]
    name = f"{dataset}-z{int(latent)}-{time.strftime('%Y%m%d-%H%M%S')}"
    try:
        job = jobs.start_job(args, name)
    except jobs.Busy as busy:
        st.warning(f"Busy: {busy}. Its progress is shown below.")
        return
    except (ValueError, OSError) as error:
        st.error(f"Cannot start training: {error}")
        return
    st.session_state[_WATCHED_JOB] = {
        "name": job.name,
        "progress": str(job.progress_path),
    }
    st.rerun()


def _curves(history: list[dict[str, float]]) -> go.Figure:
    epochs = [row["epoch"] for row in history]
    figure = go.Figure()
    for key, label in (
        ("recon", "reconstruction"),
        ("kl", "KL"),
        ("test_neg_elbo", "test −ELBO"),
    ):
        figure.add_scatter(
            x=epochs, y=[row[key] for row in history], name=label, mode="lines+markers"
        )
    figure.update_layout(
        height=220,
        margin=dict(l=10, r=10, t=10, b=10),
        legend=dict(orientation="h"),
        xaxis_title="epoch",
    )
    return figure


def _job_status() -> None:
    """Progress of the running job; when it ends, the outcome and a full rerun."""
    job = jobs.current_job()
    watched = st.session_state.get(_WATCHED_JOB)
    if job is not None:
        st.session_state[_SAW_JOB] = True
        progress = job.progress()
        mine = watched is not None and watched["name"] == job.name
        st.markdown(
            f"**Training** `{job.name}`" + ("" if mine else " (started elsewhere)")
        )
        if not mine:
            st.caption(BUSY_NOTE)
        if progress is not None and progress.epochs:
            done = progress.epoch + (0 if progress.fraction >= 1 else progress.fraction)
            st.progress(
                min(1.0, done / progress.epochs),
                text=f"epoch {min(progress.epoch + 1, progress.epochs)} of "
                f"{progress.epochs}",
            )
            if progress.history:
                st.plotly_chart(_curves(progress.history), key="train_curves")
        else:
            st.progress(0.0, text="starting (loading TensorFlow and data)…")
        st.button("Cancel training", key="cancel_training", on_click=jobs.cancel_job)
        return
    saw = st.session_state.pop(_SAW_JOB, False)
    if watched is not None:
        st.session_state.pop(_WATCHED_JOB, None)
        _report_outcome(watched)
    if watched is not None or saw:
        st.rerun(scope="app")


def _report_outcome(watched: dict[str, str]) -> None:
    """Switch to the finished model, or say why there is none."""
    progress = read_progress(Path(watched["progress"]))
    if progress is not None and progress.state == DONE:
        switch_to(progress.model_path)
        message = f"Training finished: now exploring {watched['name']}."
    elif progress is not None and progress.state == CANCELLED:
        message = "Training cancelled; nothing was published."
    elif progress is not None and progress.state == FAILED:
        message = f"Training failed: {progress.message}"
    else:
        message = "Training ended without a result; nothing was published."
    st.session_state[keys.MESSAGE] = message


def sidebar(model: LoadedModel) -> None:
    """Draw the sidebar for ``model``."""
    with st.sidebar:
        _model_info(model)
        _switcher(model)
        st.divider()
        running = jobs.current_job() is not None or _WATCHED_JOB in st.session_state
        st.fragment(_job_status, run_every=POLL_SECONDS if running else None)()
        if not running:
            # Built only while open: a closed form's dozen widgets would
            # otherwise be re-rendered by the browser on every move of z.
            retrain = st.expander("Retrain", key=keys.RETRAIN_OPEN, on_change="rerun")
            if retrain.open:
                with retrain:
                    _retrain_form()
