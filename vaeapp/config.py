"""Model and training settings as typed, frozen dataclasses.

The settings are saved as JSON beside a model's weights and used to rebuild the
exact architecture before the weights are loaded. Every limit a user can hit is
named here once, and every check raises ``ValueError`` saying what was wrong and
what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

IMAGE_SIDE = 28
N_PIXELS = IMAGE_SIDE * IMAGE_SIDE

LATENT_MIN, LATENT_MAX = 2, 32
HIDDEN_MIN, HIDDEN_MAX = 8, 4096
MAX_HIDDEN_LAYERS = 4
BETA_MIN, BETA_MAX = 0.0, 100.0
EPOCHS_MAX = 10_000
BATCH_MAX = 60_000
LR_MIN, LR_MAX = 1e-6, 1e6
OPTIMIZERS = ("adam", "adamw", "rmsprop", "sgd")
SCHEDULES = ("constant", "cosine")
DATASETS = ("mnist", "fashion_mnist")
ARCHITECTURES = ("dense", "conv")

# The conv architecture halves the image side twice with stride-2 convolutions
# (28 -> 14 -> 7) and the decoder doubles it back, so it has exactly two
# convolution layers each side; ``filters`` sets their channel counts.
CONV_LAYERS = 2
CONV_KERNEL, CONV_STRIDE = 3, 2
CONV_SIDE = IMAGE_SIDE // CONV_STRIDE**CONV_LAYERS  # 7: side of the innermost map
FILTERS_MIN, FILTERS_MAX = 1, 256
FILTERS_DEFAULT = (32, 64)

PRESETS: dict[str, tuple[int, ...]] = {
    # The Keras tutorial's architecture: 784 -> 256 -> 2 -> 256 -> 784.
    "tutorial": (256,),
    # Two hidden layers each side: 784 -> 512 -> 256 -> 2 -> 256 -> 512 -> 784.
    "deep": (512, 256),
}
# Presets of the conv architecture (with FILTERS_DEFAULT), by hidden widths:
# 28x28x1 -> conv 32 -> conv 64 -> 3136 -> 256 -> 2, decoder
# 2 -> 256 -> 3136 -> deconv 64 -> deconv 32 -> deconv 1 (the Keras VAE example's
# layers, with a 256-wide dense layer each side).
CONV_PRESETS: dict[str, tuple[int, ...]] = {"conv": (256,)}
PRESET_NAMES = (*PRESETS, *CONV_PRESETS)


def parse_widths(text: str, what: str = "hidden widths") -> tuple[int, ...]:
    """``"512,256"`` -> ``(512, 256)``; raises ValueError for anything else.

    ``what`` names the numbers in the error message (e.g. ``"filters"``).
    """
    try:
        return tuple(int(part) for part in str(text).split(",") if part.strip())
    except ValueError:
        raise ValueError(
            f"{what} must be comma-separated whole numbers, got {text!r}"
        ) from None


def _check_int(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _check_float(
    name: str, value: Any, low: float, high: float, *, low_open: bool = False
) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    value = float(value)
    too_low = value <= low if low_open else value < low
    if not math.isfinite(value) or too_low or value > high:
        bracket = "(" if low_open else "["
        raise ValueError(f"{name} must be in {bracket}{low}, {high}], got {value}")
    return value


def _check_choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    return value


@dataclass(frozen=True)
class ModelConfig:
    """The architecture of a VAE on 28x28 images.

    ``architecture`` is ``"dense"`` (fully connected layers only) or ``"conv"``
    (two stride-2 convolutions with ``filters`` channels before the dense layers,
    and two stride-2 transposed convolutions plus a 1-channel one after them in
    the decoder). ``hidden`` lists the encoder's dense hidden widths from the
    input inwards; the decoder mirrors it. ``filters`` only applies to the conv
    architecture and must keep its default for a dense one. ``beta`` weights
    the KL term of the training loss.
    """

    hidden: tuple[int, ...] = PRESETS["tutorial"]
    latent_dim: int = 2
    beta: float = 1.0
    architecture: str = "dense"
    filters: tuple[int, ...] = FILTERS_DEFAULT

    def __post_init__(self) -> None:
        hidden = tuple(self.hidden) if isinstance(self.hidden, list) else self.hidden
        if not isinstance(hidden, tuple) or not 1 <= len(hidden) <= MAX_HIDDEN_LAYERS:
            raise ValueError(
                f"hidden must list 1 to {MAX_HIDDEN_LAYERS} layer widths, "
                f"got {self.hidden!r}"
            )
        for width in hidden:
            _check_int("hidden width", width, HIDDEN_MIN, HIDDEN_MAX)
        object.__setattr__(self, "hidden", hidden)
        _check_int("latent size", self.latent_dim, LATENT_MIN, LATENT_MAX)
        object.__setattr__(
            self, "beta", _check_float("beta", self.beta, BETA_MIN, BETA_MAX)
        )
        _check_choice("architecture", self.architecture, ARCHITECTURES)
        filters = self.filters
        if isinstance(filters, list):
            filters = tuple(filters)
        if not isinstance(filters, tuple) or len(filters) != CONV_LAYERS:
            raise ValueError(
                f"filters must list {CONV_LAYERS} channel counts (one per "
                f"convolution layer), got {self.filters!r}"
            )
        for count in filters:
            _check_int("filter count", count, FILTERS_MIN, FILTERS_MAX)
        if self.architecture == "dense" and filters != FILTERS_DEFAULT:
            raise ValueError(
                f"filters apply only to the conv architecture; a dense model "
                f"must keep the default {FILTERS_DEFAULT}, got {filters}"
            )
        object.__setattr__(self, "filters", filters)

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> ModelConfig:
        """The named preset (one of PRESET_NAMES) with optional overrides."""
        _check_choice("preset", name, PRESET_NAMES)
        if name in CONV_PRESETS:
            return cls(
                **{"hidden": CONV_PRESETS[name], "architecture": "conv", **overrides}
            )
        return cls(hidden=PRESETS[name], **overrides)

    @property
    def preset_name(self) -> str | None:
        """The preset this architecture matches, or None for a custom one."""
        if self.architecture == "conv":
            if self.filters != FILTERS_DEFAULT:
                return None
            presets = CONV_PRESETS
        else:
            presets = PRESETS
        for name, hidden in presets.items():
            if hidden == self.hidden:
                return name
        return None

    def describe(self, with_preset: bool = True) -> str:
        """A one-line human description, e.g. ``784-256-2 (tutorial)`` or
        ``784-conv32-conv64-256-2 (conv)``; the preset's name only if asked."""
        conv = self.architecture == "conv"
        convs = [f"conv{n}" for n in self.filters] if conv else []
        layers = "-".join(
            str(n) for n in (N_PIXELS, *convs, *self.hidden, self.latent_dim)
        )
        name = self.preset_name if with_preset else None
        return f"{layers} ({name})" if name else layers

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings; ``filters`` is written for conv models only."""
        data: dict[str, Any] = {
            "hidden": list(self.hidden),
            "latent_dim": self.latent_dim,
            "beta": self.beta,
            "architecture": self.architecture,
        }
        if self.architecture == "conv":
            data["filters"] = list(self.filters)
        return data

    @classmethod
    def from_dict(cls, data: Any) -> ModelConfig:
        """From :meth:`to_dict`'s JSON; a document without ``architecture``
        (written before the conv option existed) describes a dense model."""
        return _from_dict(cls, data)


@dataclass(frozen=True)
class TrainConfig:
    """How a model is trained.

    ``train_size`` of 0 uses the whole training set; a smaller number trains on
    a seeded sample of that many images (for quick runs). ``kl_warmup`` epochs
    ramp the KL weight linearly from 0 to beta (Bowman et al. 2016, sec. 3.1).
    ``steps_per_execution`` batches are trained inside one compiled call (0:
    ``vaeapp.train.auto_steps_per_chunk``); see :mod:`vaeapp.batches`.
    """

    epochs: int = 200
    batch_size: int = 100
    learning_rate: float = 1e-3
    optimizer: str = "adam"
    weight_decay: float = 0.004
    schedule: str = "cosine"
    final_lr_fraction: float = 0.01
    kl_warmup: int = 0
    train_size: int = 0
    seed: int = 0
    dataset: str = "mnist"
    steps_per_execution: int = 0
    jit_compile: bool = True
    grid_size: int = 10

    def __post_init__(self) -> None:
        _check_int("epochs", self.epochs, 1, EPOCHS_MAX)
        _check_int("batch size", self.batch_size, 1, BATCH_MAX)
        object.__setattr__(
            self,
            "learning_rate",
            _check_float("learning rate", self.learning_rate, LR_MIN, LR_MAX),
        )
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        object.__setattr__(
            self,
            "weight_decay",
            _check_float("weight decay", self.weight_decay, 0.0, 1.0),
        )
        _check_choice("schedule", self.schedule, SCHEDULES)
        object.__setattr__(
            self,
            "final_lr_fraction",
            _check_float("final learning-rate fraction", self.final_lr_fraction, 0, 1),
        )
        _check_int("KL warm-up epochs", self.kl_warmup, 0, EPOCHS_MAX)
        _check_int("training-set size", self.train_size, 0, BATCH_MAX)
        _check_int("seed", self.seed, 0, 2**31 - 1)
        _check_choice("dataset", self.dataset, DATASETS)
        _check_int("steps per execution", self.steps_per_execution, 0, 1_000_000)
        if not isinstance(self.jit_compile, bool):
            raise ValueError(
                f"jit_compile must be true or false, got {self.jit_compile!r}"
            )
        _check_int("grid size", self.grid_size, 0, 30)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> TrainConfig:
        return _from_dict(cls, data)


def _from_dict(cls: type, data: Any) -> Any:
    """Build ``cls`` from a JSON object, refusing unknown or mistyped keys."""
    if not isinstance(data, dict):
        raise ValueError(
            f"{cls.__name__} must be a JSON object, got {type(data).__name__}"
        )
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ValueError(
            f"{cls.__name__} has unknown keys {sorted(unknown)}; "
            f"allowed: {sorted(names)}"
        )
    try:
        return cls(**data)
    except TypeError as error:
        raise ValueError(f"{cls.__name__} is malformed: {error}") from None
