"""The wheel, installed in a fresh virtual environment, run from a folder that
is not the checkout: the command, the export and the page, with no training
stack (see conftest.py)."""

from __future__ import annotations

import subprocess
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

import vaeapp
from devtools import server as devserver
from devtools.installed import BLOCKED_LOG_ENV, ROOT, Venv

PAGE_TIMEOUT_MS = 120_000


def blocked(log: Path) -> list[str]:
    """The training-stack modules something tried to import (the blocker's log)."""
    return log.read_text().split() if log.exists() else []


def test_wheel_holds_the_package_and_its_data_only(wheel: Path):
    """The wheel has vaeapp with its models, test sets and browser files, the
    licence, and none of bench/, deploy/, devtools/, tests/ or docs/."""
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"vaeapp", wheel.name.split("-py3")[0] + ".dist-info"}
    for needed in (
        "vaeapp/pretrained/mnist-wide/model.weights.h5",
        "vaeapp/testsets/mnist.npz",
        "vaeapp/web/latent_map.js",
        "vaeapp/web/vendor/regl-scatterplot-1.16.0.min.js",
        "vaeapp/ui/streamlit_config.toml",
    ):
        assert needed in names
    assert any(name.endswith("licenses/LICENSE") for name in names)


def test_the_package_comes_from_the_environment(venv: Venv):
    """`import vaeapp` in the environment finds the installed copy, not the
    checkout, and the training stack is not importable there."""
    proc = venv.run(venv.python, "-c", "import vaeapp; print(vaeapp.__file__)")
    assert proc.returncode == 0, proc.stderr
    path = Path(proc.stdout.strip())
    assert path.is_relative_to(venv.root) and not path.is_relative_to(ROOT)
    proc = venv.run(venv.python, "-c", "import tensorflow")
    assert proc.returncode != 0 and "No module named 'tensorflow'" in proc.stderr


def test_help_and_version(venv: Venv):
    """`vaeapp --help` lists the commands and `vaeapp --version` the version."""
    proc = venv.run(venv.command, "--help")
    assert proc.returncode == 0, proc.stderr
    assert "serve" in proc.stdout and "export" in proc.stdout
    proc = venv.run(venv.command, "--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"vaeapp {vaeapp.__version__}"


def test_export_of_a_shipped_model(venv: Venv):
    """`vaeapp export` writes a shipped model's one-file explorer, importing
    no training stack."""
    log = venv.work / "export-imports.log"
    proc = venv.run(
        venv.command, "export", "--model", "mnist-tutorial", "--out", "t.html",
        **{BLOCKED_LOG_ENV: str(log)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = venv.work / "t.html"
    assert out.stat().st_size > 1_000_000
    assert out.read_text()[:200].lower().startswith("<!doctype html>")
    assert blocked(log) == []


def test_train_without_the_training_stack_says_how_to_get_it(venv: Venv):
    """`vaeapp train` in the base install exits 1 with one line naming vaeapp[train]."""
    proc = venv.run(venv.command, "train", "--dataset", "shapes", "--epochs", "1")
    assert proc.returncode == 1
    assert "vaeapp[train]" in proc.stderr and "Traceback" not in proc.stderr


def test_serve_draws_the_page_without_the_training_stack(venv: Venv, browser: Any):
    """`vaeapp serve` answers /_stcore/health, the page draws the map and the
    digit in Chromium, its static files go to the page folder, and nothing
    tries to import Keras, TensorFlow or JAX."""
    log = venv.work / "serve-imports.log"
    port = devserver.free_port()
    server_log = venv.work / "serve.log"
    with server_log.open("wb") as out:
        process = subprocess.Popen(
            [str(venv.command), "serve", "--server.port", str(port),
             "--server.address", "127.0.0.1"],
            cwd=venv.work, env=venv.env(**{BLOCKED_LOG_ENV: str(log)}),
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = devserver.Server(
        process, f"http://127.0.0.1:{port}", server_log, time.perf_counter()
    )
    try:
        devserver.wait_ready(server, 120)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        try:
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(server.url, timeout=PAGE_TIMEOUT_MS)
            for selector in (".vae-explorer[data-drawn]", ".vae-digit"):
                page.wait_for_selector(
                    selector, state="visible", timeout=PAGE_TIMEOUT_MS
                )
            assert errors == []
            assert page.locator("[data-testid='stException']").count() == 0
        finally:
            context.close()
        assert process.poll() is None, server.log_tail()
    finally:
        devserver.stop(server)
    static = venv.work / "page" / "static" / "vaeapp"
    assert any(static.glob("scatterplot.*.js")), server.log_tail()
    assert blocked(log) == [], server.log_tail()


@pytest.mark.parametrize("name", ["bench", "deploy", "devtools", "tests", "docs"])
def test_nothing_but_the_package_is_installed(venv: Venv, name: str):
    """The environment's site-packages holds no bench/, deploy/, devtools/,
    tests/ or docs/ of this project."""
    assert not (Path(venv.site_packages()) / name).exists()


RETRAIN = """
import time
from pathlib import Path
from vaeapp.core.config import ModelConfig, TrainConfig
from vaeapp.jobs.progress import CANCELLED, DONE, FAILED
from vaeapp.jobs.runner import start_job

train = TrainConfig(dataset="shapes", epochs=1)
job = start_job(ModelConfig(), train, "r", Path("r").resolve())
deadline, state = time.monotonic() + 120, None
while time.monotonic() < deadline:
    state = job.progress()
    if state is not None and state.state in (DONE, FAILED, CANCELLED):
        break
    time.sleep(0.2)
print(state.state if state else None)
print(state.message if state else None)
"""


def test_retrain_without_the_training_stack_reports_the_extra(venv: Venv):
    """A run the page starts (vaeapp.jobs) in the base install ends failed, its
    progress file naming vaeapp[train] for the page to show."""
    proc = venv.run(venv.python, "-c", RETRAIN)
    assert proc.returncode == 0, proc.stderr
    state, message = proc.stdout.strip().splitlines()[-2:]
    assert state == "failed" and 'pip install "vaeapp[train]"' in message
