"""Whether this host trains on a GPU, found without importing a framework
(the page may ask; it never imports JAX or TensorFlow).

The GPU path is JAX's: Keras's distribution API, which spreads a run over
several GPUs and hosts, is implemented for JAX only, so one backend serves one
GPU and many; and on this project's CPU measurements JAX was also the faster
backend of the two for both the dense and the conv model (docs/distributed.md,
docs/gpu.md). A host trains on its GPU when it has an NVIDIA device file and
JAX's CUDA plugin is installed (``pip install "jax[cuda12]==0.10.2"``: the
recipe in docs/gpu.md).
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

GPU_BACKEND = "jax"
# The packages "jax[cuda12]" (or cuda13) installs: JAX's CUDA plugin.
JAX_CUDA_PLUGINS = ("jax_cuda12_plugin", "jax_cuda13_plugin")
NVIDIA_DEVICES = "nvidia[0-9]*"  # /dev/nvidia0, ...: one file per GPU


def nvidia_gpu_present(dev: Path = Path("/dev")) -> bool:
    """Whether the host has an NVIDIA GPU device file."""
    return any(dev.glob(NVIDIA_DEVICES))


def jax_cuda_installed() -> bool:
    """Whether JAX's CUDA plugin is installed (looked up, not imported)."""
    return any(find_spec(name) is not None for name in JAX_CUDA_PLUGINS)


def gpu_backend(dev: Path = Path("/dev")) -> str | None:
    """The Keras backend that trains on this host's GPU, or None when the
    host has no GPU or no backend installed for it."""
    if nvidia_gpu_present(dev) and jax_cuda_installed():
        return GPU_BACKEND
    return None
