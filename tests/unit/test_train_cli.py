"""The training command line, run as a subprocess like the app runs it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from support import run_train
from unit_helpers import synthetic_arrays, write_npz

from vaeapp.core.config import RefineConfig
from vaeapp.jobs.progress import DONE, FAILED, read_progress
from vaeapp.store.reading import load_model

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """The command without a developer's data or models folder."""
    return run_train(*args, timeout=timeout, unset=("VAEAPP_MNIST_DATA", "VAEAPP_HOME"))


@pytest.fixture
def npz(tmp_path) -> Path:
    return write_npz(tmp_path / "tmp.npz", synthetic_arrays(n_train=300, n_test=100))


def test_help_exits_zero_and_mentions_data():
    """--help exits 0 and documents --data."""
    proc = run_cli("--help")
    assert proc.returncode == 0
    assert "--data" in proc.stdout and "--progress-file" in proc.stdout
    assert proc.stderr == ""


def test_one_epoch_run_publishes_a_loadable_model(tmp_path, npz):
    """A 1-epoch run exits 0, writes a loadable model and a 'done' progress file."""
    out, progress = tmp_path / "out", tmp_path / "p.json"
    proc = run_cli(
        *("--data", str(npz), "--out", str(out), "--progress-file", str(progress)),
        *"--epochs 1 --train-size 200 --batch-size 50 --hidden 16 --name m1".split(),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert proc.stdout.strip().splitlines()[-1].startswith(f"saved {out / 'm1'}")
    loaded = load_model(out / "m1")
    assert loaded.record.model.hidden == (16,) and loaded.record.model.latent_dim == 2
    assert loaded.record.train.train_size == 200 and loaded.record.train.epochs == 1
    assert loaded.record.data_source.startswith("tmp: the file 'tmp.npz'")
    assert loaded.latent_mean.shape == (100, 2)
    assert loaded.vae.decode(np.zeros((1, 2))).shape == (1, 784)
    assert sorted(p.name for p in out.iterdir()) == ["m1"]
    state = read_progress(progress)
    assert state is not None and state.state == DONE
    assert state.model_path == str(out / "m1")
    assert (state.epoch, state.fraction, len(state.history)) == (1, 1.0, 1)


def test_a_run_with_refine_options_publishes_a_refined_folder(tmp_path, npz):
    """--refine-steps refines the folder's q before it is published: the
    settings, the refined figures beside the encoder's, and the final line."""
    out = tmp_path / "out"
    proc = run_cli(
        *("--data", str(npz), "--out", str(out), "--name", "r1"),
        *"--epochs 1 --train-size 200 --batch-size 50 --hidden 16".split(),
        *"--refine-steps 10 --refine-learning-rate 0.05".split(),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    loaded = load_model(out / "r1")
    assert loaded.record.refine == RefineConfig(steps=10, learning_rate=0.05)
    metrics = loaded.record.metrics
    assert metrics["test_neg_elbo"] < metrics["encoder_test_neg_elbo"]
    assert metrics["val_neg_elbo"] < metrics["encoder_val_neg_elbo"]
    x = loaded.test_images[:3].astype(np.float32) / 255
    np.testing.assert_allclose(loaded.encode(x)[0], loaded.latent_mean[:3], atol=1e-5)
    last = proc.stdout.strip().splitlines()[-1]
    assert "with q refined per image (10 steps)" in last
    assert f"test {metrics['test_neg_elbo']:.2f} nats" in last


def test_refine_options_on_a_conv_model_fail_before_training(tmp_path, npz):
    """Refinement needs a dense decoder: a conv run with it fails at once."""
    out = tmp_path / "out"
    proc = run_cli(
        *("--data", str(npz), "--out", str(out), "--name", "c1"),
        *"--preset conv --epochs 1 --refine-steps 5".split(),
    )
    assert proc.returncode == 1 and "needs a dense decoder" in proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists()


def bad_shapes_npz(tmp_path: Path) -> Path:
    arrays = synthetic_arrays(n_train=300, n_test=100)
    arrays["x_train"] = arrays["x_train"].reshape(300, 784)
    return write_npz(tmp_path / "flat.npz", arrays)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--epochs", "0"], "epochs must be between 1 and 10000, got 0"),
        (["--batch-size", "0"], "batch size must be between 1 and 60000, got 0"),
        (["--latent-dim", "0"], "latent size must be between 2 and 32, got 0"),
        (
            ["--lr", "1e7"],
            "learning rate must be in [1e-06, 1000000.0], got 10000000.0",
        ),
        (["--lr", "0"], "learning rate must be in [1e-06, 1000000.0], got 0.0"),
        (["--hidden", ""], "hidden must list 1 to 4 layer widths"),
        (
            ["--data", "/nonexistent"],
            "data path /nonexistent does not exist; pass --data",
        ),
        (["@bad-shapes"], "x_train must have shape (n, height, width) or"),
        (["--name", "../evil"], "model name '../evil' is not allowed"),
        (["--name", "a/b"], "model name 'a/b' is not allowed"),
        (["--refine-steps", "0"], "refine steps must be between 1 and 200, got 0"),
    ],
)
def test_bad_input_fails_with_one_error_line(tmp_path, npz, args, message):
    """Bad settings or data exit 1 with a single 'error:' line and no traceback."""
    if args == ["@bad-shapes"]:
        args = ["--data", str(bad_shapes_npz(tmp_path))]
    out, progress = tmp_path / "out", tmp_path / "p.json"
    base = [
        *("--data", str(npz), "--out", str(out), "--progress-file", str(progress)),
        *"--epochs 1 --train-size 200 --batch-size 50 --hidden 16 --name m1".split(),
    ]
    proc = run_cli(*base, *args)  # later options override the defaults in base
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and message in lines[0]
    assert not out.exists()
    assert not (tmp_path / "evil").exists()
    state = read_progress(progress)
    assert state is not None and state.state == FAILED and message in state.message


def test_batch_larger_than_training_set_fails_cleanly(tmp_path, npz):
    """A batch above --train-size exits 1 with 'error:', no traceback, no model."""
    out = tmp_path / "out"
    proc = run_cli(
        *("--data", str(npz), "--out", str(out)),
        *"--epochs 1 --train-size 200 --batch-size 500 --hidden 16 --no-jit".split(),
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    # TensorFlow may log to stderr first; the last line is ours and the only error line.
    lines = proc.stderr.strip().splitlines()
    assert lines[-1] == (
        "error: batch size 500 is larger than the 200 training images; "
        "choose at most that many"
    )
    assert [line for line in lines if line.startswith("error:")] == [lines[-1]]
    assert not out.exists()


def test_existing_model_name_is_refused_before_training(tmp_path, npz):
    """A --name that exists under --out fails at once and leaves it untouched."""
    out = tmp_path / "out"
    (out / "m1").mkdir(parents=True)
    (out / "m1" / "keep.txt").write_text("mine")
    proc = run_cli(
        "--data", str(npz), "--epochs", "1", "--out", str(out), "--name", "m1"
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"error: a model named 'm1' already exists in {out}"
    ]
    assert (out / "m1" / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in (out / "m1").iterdir()) == ["keep.txt"]


def test_out_that_is_a_file_is_refused_before_training(tmp_path, npz):
    """An --out path that is a file fails at once with one error line."""
    out = tmp_path / "out"
    out.write_text("not a folder")
    proc = run_cli("--data", str(npz), "--epochs", "1", "--out", str(out))
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [f"error: --out {out} is not a folder"]
    assert out.read_text() == "not a folder"


def test_unparseable_option_is_a_usage_error(tmp_path):
    """A malformed option value is rejected by argparse with exit 2 and no traceback."""
    proc = run_cli("--hidden", "16,abc")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert (
        "error: argument --hidden: hidden widths must be comma-separated" in proc.stderr
    )


def test_progress_file_in_missing_folder_fails_cleanly(tmp_path, npz):
    """A --progress-file in a missing folder gives an error line, no traceback."""
    progress = tmp_path / "absent" / "p.json"
    proc = run_cli(
        *("--data", str(npz), "--out", str(tmp_path / "out")),
        *("--epochs", "1", "--progress-file", str(progress)),
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("error: ")
