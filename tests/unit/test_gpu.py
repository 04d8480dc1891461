"""The GPU path: which backend a host trains on, and the GPU benchmark's
runs and data, checked on a CPU."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from bench import gpu_training
from vaeapp.core import gpu
from vaeapp.train import distributed


def test_a_host_with_an_nvidia_device_and_jax_cuda_trains_with_jax(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """An NVIDIA device file and JAX's CUDA plugin give JAX; either missing
    gives None (the default backend)."""
    monkeypatch.setattr(gpu, "jax_cuda_installed", lambda: True)
    assert gpu.gpu_backend(tmp_path) is None
    (tmp_path / "nvidia0").touch()
    assert gpu.gpu_backend(tmp_path) == "jax"
    monkeypatch.setattr(gpu, "jax_cuda_installed", lambda: False)
    assert gpu.gpu_backend(tmp_path) is None


def test_the_command_picks_the_gpu_backend_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
):
    """Without --backend or $KERAS_BACKEND a GPU host runs JAX; either of
    them still decides."""
    monkeypatch.setattr(distributed, "gpu_backend", lambda: "jax")
    options = dict(coordinator=None, num_processes=None, process_id=None)
    assert distributed.resolve(backend=None, environ={}, **options).backend == "jax"
    environ = {"KERAS_BACKEND": "tensorflow"}
    chosen = distributed.resolve(backend=None, environ=environ, **options)
    assert chosen.backend == "tensorflow"
    monkeypatch.setattr(distributed, "gpu_backend", lambda: None)
    assert distributed.resolve(backend=None, environ={}, **options).backend == (
        distributed.DEFAULT_BACKEND
    )


def test_the_benchmarks_cpu_runs_hide_every_gpu():
    """The cpu mode hides the GPUs from CUDA and JAX and runs TensorFlow;
    the gpu mode leaves the choice to the command."""
    cpu = gpu_training._environment("cpu")
    assert cpu["CUDA_VISIBLE_DEVICES"] == "-1" and cpu["JAX_PLATFORMS"] == "cpu"
    assert cpu["KERAS_BACKEND"] == "tensorflow"
    assert "KERAS_BACKEND" not in gpu_training._environment("gpu")


def test_the_benchmarks_scale_data_is_64_pixel_colour_images(tmp_path: Path):
    """Without a data folder the scale workload writes --images generated
    64x64x3 shapes and 1,000 test images; the runs use conv-deep on it."""
    options = argparse.Namespace(
        scale_data=None, images=30, mnist=None, tiny=False, epochs=2
    )
    runs = gpu_training.workloads(options, tmp_path)
    path = Path(runs["scale"][runs["scale"].index("--data") + 1])
    with np.load(path) as data:
        assert data["x_train"].shape == (30, 64, 64, 3)
        assert data["x_test"].shape == (gpu_training.SCALE_TEST, 64, 64, 3)
    assert "conv-deep" in runs["scale"] and "--config" in runs["mnist-wide"]
