"""The Retrain section's interrupted runs: each run of this server's models
folder that stopped after an epoch and before publishing (a restart of the
server, a killed process, a cancel), with what it had done and buttons to
continue it from its checkpoint or to discard it
(:mod:`vaeapp.store.unfinished`; continuing is :func:`vaeapp.jobs.runner.continue_job`).
"""

from __future__ import annotations

import streamlit as st

from vaeapp.core.text import plain
from vaeapp.jobs import runner as jobs
from vaeapp.store import unfinished
from vaeapp.store.format import trained_dir
from vaeapp.store.unfinished import Unfinished
from vaeapp.ui import state
from vaeapp.ui.state import K

INTERRUPTED_TITLE = "Interrupted runs"


def run_summary(run: Unfinished) -> str:
    """One line on ``run``: its name, data, model and the epochs it did."""
    model = run.model
    layers = "-".join(str(width) for width in model.hidden)
    return (
        f"{run.name}: {run.train.dataset}, {model.architecture} {layers}, "
        f"z {model.latent_dim}; {run.epochs_done} of {run.epochs} epochs done"
    )


def interrupted_section() -> None:
    """List the interrupted runs with Continue and Discard; a run continued
    is followed as the job this session started."""
    runs = unfinished.interrupted_runs(trained_dir())
    if not runs:
        return
    st.markdown(f"**{INTERRUPTED_TITLE}**")
    for run in runs:
        st.caption(plain(run_summary(run)))
        go, drop = st.columns(2)
        if go.button("Continue", key=f"{K.CONTINUE_RUN}{run.identity}"):
            _continue(run)
        if drop.button("Discard", key=f"{K.DISCARD_RUN}{run.identity}"):
            if run.folder is not None and unfinished.discard(run.folder):
                state.say(f"Discarded the interrupted run {run.name}.")
            st.rerun()


def _continue(run: Unfinished) -> None:
    """Start ``run`` again from its checkpoint and follow it; say why if it
    cannot start."""
    try:
        job = jobs.continue_job(run)
    except jobs.Busy as busy:
        st.warning(f"Busy: {plain(busy)}. Its progress is shown below.")
        return
    except (ValueError, OSError) as error:
        st.error(f"Cannot continue training: {plain(error)}")
        return
    state.set_watched_job(job)
    st.rerun()
