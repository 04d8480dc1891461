"""Two processes on localhost train through the real command, data-parallel on
Keras's DataParallel (JAX backend), and publish one ordinary model folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from mp_helpers import (
    REPO_ROOT,
    TINY,
    finish_group,
    needs_jax,
    run_one,
    small_data,
    start_group,
    weights,
)

from vaeapp.store.format import PRETRAINED_DIR
from vaeapp.store.reading import load_model

pytestmark = needs_jax
# The two-process run and the one-process run add the same float32 numbers in
# a different order (each process sums its half of the batch's gradient, then
# gloo adds the two halves), about 1e-7 relative per step; over the 9 Adam
# steps here the weights were measured 1e-7 apart. 1e-5 leaves room for other
# CPUs' summation orders and is still far below one step's change (~1e-3).
WEIGHTS_ATOL = 1e-5


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """One epoch on two processes (batch 20 each) and on one JAX process
    with the same global batch of 40 and seed; both published as ``m``."""
    root = tmp_path_factory.mktemp("data_parallel")
    data = small_data(root)
    common = ("--data", str(data), *TINY, "--epochs", "1", "--name", "m")
    logs = ("--csv", str(root / "epochs.csv"), "--tensorboard", str(root / "board"))
    group = start_group(
        (*common, "--batch-size", "20", "--out", str(root / "two"), *logs)
    )
    reference = run_one(
        *common, "--backend", "jax", "--batch-size", "40", "--out", str(root / "one")
    )
    return {
        "root": root,
        "data": data,
        "common": common,
        "group": finish_group(group),
        "reference": reference,
    }


def test_two_processes_publish_one_folder_with_the_single_process_weights(runs):
    """Both exit 0, exactly one folder is published, its weights equal those
    of one process with the global batch, and the global batch is stated and
    saved."""
    root: Path = runs["root"]
    for status, out, err in runs["group"]:
        assert status == 0, err[-2000:]
        assert "global batch 40 = 20 per process x 2 process(es)" in out
    assert runs["reference"].returncode == 0, runs["reference"].stderr[-2000:]
    assert sorted(p.name for p in (root / "two").iterdir()) == ["m"]
    assert "saved" in runs["group"][0][1] and "saved" not in runs["group"][1][1]
    two, one = weights(root / "two" / "m"), weights(root / "one" / "m")
    assert sorted(two) == sorted(one)
    for name in two:
        np.testing.assert_allclose(two[name], one[name], rtol=0, atol=WEIGHTS_ATOL)
    train = json.loads((root / "two" / "m" / "config.json").read_text())["train"]
    assert (train["batch_size"], train["global_batch_size"]) == (20, 40)


def test_only_process_0_writes_the_csv_and_tensorboard_logs(runs):
    """Given --csv and --tensorboard, the group leaves one CSV row for its one
    epoch and one event file per TensorBoard run: process 0's alone."""
    root = runs["root"]
    rows = (root / "epochs.csv").read_text().strip().splitlines()
    assert len(rows) == 2 and rows[0].startswith("epoch,"), rows
    for run in ("train", "validation"):
        files = list((root / "board" / run).glob("events.out.tfevents.*"))
        assert len(files) == 1, (run, files)


def test_a_jax_model_loads_in_the_numpy_path_like_a_tensorflow_one(runs):
    """The JAX-trained folder has the weight paths of a TensorFlow-trained
    one (the shipped mnist-tutorial) and the NumPy encoder reproduces the
    latents Keras wrote."""
    folder = runs["root"] / "two" / "m"
    assert sorted(weights(folder)) == sorted(weights(PRETRAINED_DIR / "mnist-tutorial"))
    model = load_model(folder)
    mean, log_var = model.vae.encode(model.test_images.astype(np.float32) / 255.0)
    np.testing.assert_allclose(mean, model.latent_mean, atol=1e-4)
    np.testing.assert_allclose(log_var, model.latent_log_var, atol=1e-4)
    assert model.vae.decode(np.zeros((1, 2), np.float32)).shape == (1, 784)


def test_a_jax_model_opens_in_the_app(runs, monkeypatch):
    """The app explores the JAX-trained folder without an error."""
    from streamlit.testing.v1 import AppTest

    from vaeapp.ui.state import K

    folder = runs["root"] / "two" / "m"
    monkeypatch.setenv("VAEAPP_HOME", str(runs["root"] / "two"))
    monkeypatch.chdir(REPO_ROOT)
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60)
    at.session_state[K.ACTIVE_MODEL] = str(folder)
    at.run()
    assert not at.exception
    assert not at.error
    assert at.session_state[K.ACTIVE_MODEL] == str(folder)


def test_one_process_uses_every_local_device(runs):
    """One JAX process with two (forced) CPU devices trains data-parallel on
    both and reaches the same weights."""
    root: Path = runs["root"]
    result = run_one(
        *runs["common"],
        "--backend",
        "jax",
        "--batch-size",
        "40",
        "--out",
        str(root / "local"),
        XLA_FLAGS="--xla_force_host_platform_device_count=2",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "data-parallel on 2 devices: process 0 of 1 with 2 local" in result.stdout
    local, one = weights(root / "local" / "m"), weights(root / "one" / "m")
    for name in local:
        np.testing.assert_allclose(local[name], one[name], rtol=0, atol=WEIGHTS_ATOL)
