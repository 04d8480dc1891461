"""What the training loop runs on: TensorFlow's start-up (its log lines
filtered, the machine's GPUs looked for), the choices for the compiled
training step (XLA, batches per compiled call) and the optimizer.

Keras and TensorFlow are imported inside the functions, so that the command
can choose the backend first and ``--help`` stays fast.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from vaeapp.core.config import ModelConfig, TrainConfig

AUTO_STEPS_PER_EXECUTION = 100
# An automatic chunk holds at most this many images (31 MB as float32), so that
# large batches do not turn a chunk into a copy of the whole training set.
AUTO_CHUNK_IMAGES = 10_000
MNIST_VALUES = 784  # values of one 28x28 grey image: the chunk bound's unit
# TensorFlow's log lines: severity I, W, E or F, date, time, thread, file:line,
# e.g. "E0000 00:00:1796492360.557238   11821 cuda_platform.cc:52] ...".
# Those written before absl's InitializeLog are printed whatever
# TF_CPP_MIN_LOG_LEVEL says; the command applies it to them itself.
_LOG_LINE = re.compile(r"^([IWEF])\d{4} [\d:.]+ +\d+ [^\]\s]+:\d+\] ")
_SEVERITIES = "IWEF"
_ABSL_PREAMBLE = "WARNING: All log messages before absl::InitializeLog()"
# What CUDA logs on a machine without a GPU: nothing is wrong there.
_NO_GPU_LINES = ("failed call to cuInit", "Could not find cuda drivers")
# Device files of a GPU TensorFlow could use: NVIDIA's, and WSL2's.
_GPU_DEVICE_FILES = ("nvidia[0-9]*", "dxg")


def startup_log(text: str, min_level: int, gpu_device: bool) -> tuple[str, bool]:
    """What to show of the log TensorFlow wrote while starting, and whether
    it said there is no GPU. Lines of a severity below ``min_level`` (as
    TF_CPP_MIN_LOG_LEVEL counts: 0 info, 1 warning, 2 error) are dropped, as
    TensorFlow itself does once its logging is set up; so are CUDA's lines
    saying it found no GPU when the machine has no GPU device file
    (``gpu_device`` False): there they are no error. Everything else is kept,
    in order."""
    kept, no_gpu = [], False
    for line in text.splitlines(keepends=True):
        match = _LOG_LINE.match(line)
        if line.startswith(_ABSL_PREAMBLE):
            severity = _SEVERITIES.index("W")
        elif match:
            severity = _SEVERITIES.index(match.group(1))
        else:
            kept.append(line)  # not TensorFlow's: e.g. Python's own warnings
            continue
        if not gpu_device and any(part in line for part in _NO_GPU_LINES):
            no_gpu = True
        elif severity >= min_level:
            kept.append(line)
    return "".join(kept), no_gpu


# What each backend needs beyond the base install, and the extra that adds it.
_STACKS = {
    "tensorflow": ("train", "tensorflow", "TensorFlow"),
    "jax": ("jax", "jax", "JAX"),
}


def check_installed(backend: str) -> None:
    """Raise ValueError, naming the extra to install, when Keras or the
    backend's library is not installed (the base install leaves them out)."""
    extra, library, shown = _STACKS[backend]
    for module in ("keras", library):
        try:
            found = importlib.util.find_spec(module) is not None
        except ImportError:
            found = False
        if not found:
            raise ValueError(
                f"training needs Keras and {shown}, which this install leaves "
                f'out: pip install "vaeapp[{extra}]"'
            )


def gpu_device_present() -> bool:
    """Whether this machine has a device file of a GPU TensorFlow could use."""
    dev = Path("/dev")
    return any(any(dev.glob(pattern)) for pattern in _GPU_DEVICE_FILES)


def start_tensorflow(verbose: bool) -> int:
    """Import TensorFlow and let it look for GPUs, catching what it writes to
    standard error meanwhile and showing it through :func:`startup_log`;
    returns the number of GPUs. With ``verbose``, a machine without a GPU is
    named in one line instead of CUDA's error lines."""
    sys.stderr.flush()
    saved = os.dup(2)
    gpus: list[Any] = []
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            text = caught.read().decode(errors="replace")
            level = os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0")
            shown, no_gpu = startup_log(
                text, int(level) if level.isdigit() else 0, gpu_device_present()
            )
            sys.stderr.write(shown)
            sys.stderr.flush()
    if verbose and not gpus:
        reason = " (CUDA found no GPU device)" if no_gpu else ""
        print(f"no GPU here{reason}: training on the CPU", flush=True)
    return len(gpus)


def auto_steps_per_chunk(batch_size: int, image_values: int = MNIST_VALUES) -> int:
    """Batches per compiled call when the config leaves it at 0: up to
    AUTO_STEPS_PER_EXECUTION, and no more than AUTO_CHUNK_IMAGES images of
    MNIST's size (31 MB as float32); fewer of larger images (``image_values``
    values each), so that a chunk of 64x64 RGB images stays as small."""
    images = AUTO_CHUNK_IMAGES * MNIST_VALUES // max(image_values, MNIST_VALUES)
    return max(1, min(AUTO_STEPS_PER_EXECUTION, images // batch_size))


def steps_per_chunk(config: TrainConfig, image_values: int = MNIST_VALUES) -> int:
    """Batches per compiled call for ``config`` on images of ``image_values``
    values: its own, or the automatic one."""
    return config.steps_per_execution or auto_steps_per_chunk(
        config.batch_size, image_values
    )


def use_xla(config: TrainConfig, model_config: ModelConfig) -> bool:
    """Whether the compiled training step goes through XLA: as ``config``
    says, except for conv models and models with dropout on TensorFlow without
    a GPU. There XLA's CPU convolutions inside the chunk loop took 104-211 s
    per epoch of 3,000 MNIST images against 2.7-5.7 s for TensorFlow's own
    kernels, and its random numbers for dropout made an epoch of 5,000 images
    of 784-1024-512-256-2 take 6.0 s against 2.3-2.5 s without XLA
    (docs/benchmarks.md); other dense models gain from XLA, and JAX always
    compiles with it."""
    import keras

    if not config.jit_compile:
        return False
    slow_on_cpu = (
        model_config.architecture == "conv"
        or model_config.dropout
        or model_config.input_dropout
    )
    if not slow_on_cpu or keras.backend.backend() != "tensorflow":
        return True
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def build_optimizer(config: TrainConfig, steps_per_epoch: int) -> Any:
    """The optimizer with its learning-rate schedule."""
    import keras

    rate: Any = config.learning_rate
    if config.schedule == "cosine":
        rate = keras.optimizers.schedules.CosineDecay(
            config.learning_rate,
            decay_steps=config.epochs * steps_per_epoch,
            alpha=config.final_lr_fraction,
        )
    # Polyak averaging of the weights (Polyak & Juditsky 1992), when chosen.
    momentum = config.ema_momentum
    ema = {"use_ema": True, "ema_momentum": momentum} if momentum else {}
    if config.optimizer == "adam":
        return keras.optimizers.Adam(rate, **ema)
    if config.optimizer == "adamw":  # decoupled weight decay (Loshchilov & Hutter 2019)
        return keras.optimizers.AdamW(rate, weight_decay=config.weight_decay, **ema)
    if config.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(rate, **ema)
    return keras.optimizers.SGD(rate, momentum=0.9, **ema)
