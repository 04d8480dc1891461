"""Model and training settings as typed, frozen dataclasses.

The settings are saved as JSON beside a model's weights and used to rebuild the
exact architecture before the weights are loaded. Every limit a user can hit is
named here once, and every check raises ``ValueError`` saying what was wrong and
what is allowed.

Each field is declared with :func:`~vaeapp.core.settings.setting`: its default,
limits, help text and whether the app's Retrain form shows it. The command line
(:mod:`vaeapp.train`), the Retrain form (:mod:`vaeapp.ui.sidebar.retrain`) and
the checks are generated from these declarations, so a new setting is one
declaration here.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from vaeapp.core.settings import (
    check_choice,
    check_int,
    check_name,
    check_settings,
    setting,
)

IMAGE_SIDE = 28  # MNIST's images: 28x28 grey
N_PIXELS = IMAGE_SIDE * IMAGE_SIDE
MNIST_SHAPE = (IMAGE_SIDE, IMAGE_SIDE, 1)  # (height, width, channels)
# Image sides: up to IMAGE_SIDE_MAX for training and the map with a conv
# model; up to LIVE_SIDE_MAX for a dense model, and the largest the page
# decodes live in the browser.
IMAGE_SIDE_MIN, IMAGE_SIDE_MAX = 8, 128
LIVE_SIDE_MAX = 64
CHANNELS = (1, 3)  # grey or RGB

LATENT_MIN, LATENT_MAX = 2, 32
HIDDEN_MIN, HIDDEN_MAX = 8, 4096
MAX_HIDDEN_LAYERS = 4
BETA_MIN, BETA_MAX = 0.0, 100.0
EPOCHS_MAX = 10_000
BATCH_MAX = 60_000
PROCESSES_MAX = 65_536  # processes of a data-parallel run (vaeapp.train.distributed)
VALIDATION_MAX = 50_000  # validation images held out of the training set
LR_MIN, LR_MAX = 1e-6, 1e6
DROPOUT_MAX = 0.9  # share of a layer's units dropped in training
EMA_MAX = 0.99999  # momentum of the weights' moving average per step
OPTIMIZERS = ("adam", "adamw", "rmsprop", "sgd")
SCHEDULES = ("constant", "cosine")
WEIGHTS_DTYPES = ("float32", "float16")  # how a model folder stores its weights
# The official sets, each with its own environment variable and shipped test set.
DATASETS = ("mnist", "fashion_mnist")
# Data sets the training command knows by name: the official ones and the
# generated coloured shapes (vaeapp.data.shapes). Any other valid name is a person's
# own data set, read from --data or its environment variable.
BUILTIN_DATASETS = (*DATASETS, "shapes")
DATASET_NAME = re.compile(r"^[a-z0-9][a-z0-9_]{0,31}$")
COLORS = ("auto", "grey", "rgb")
# What the transparent pixels of a folder's images are laid on.
BACKGROUNDS = ("black", "white")
TEST_SHARE_MIN, TEST_SHARE_MAX = 0.01, 0.5
# Per-image refinement of q(z|x) (vaeapp.inference.refinement): its work per image is
# steps x draws decoder passes and as many backward ones, so these bound what
# a folder can ask of the page for each image it encodes.
REFINE_STEPS_MAX = 200
REFINE_DRAWS_MAX = 16
SEED_MAX = 2**31 - 1
# Latent means beyond this, or log-variances beyond +-LOG_VAR_LIMIT, are no
# trained encoder's output; refusing them keeps squares and exponentials finite.
MEAN_LIMIT = 1e4
LOG_VAR_LIMIT = 60.0
ARCHITECTURES = ("dense", "conv")

# The conv architecture halves the image side with each stride-2 convolution
# and the decoder doubles it back; ``filters`` lists their channel counts, one
# per stage. The conv preset has two (28 -> 14 -> 7).
CONV_LAYERS = 2  # stages of FILTERS_DEFAULT, the conv preset's
MAX_CONV_LAYERS = 5  # 128 -> 64 -> 32 -> 16 -> 8 -> 4: the largest side to 4x4
CONV_KERNEL, CONV_STRIDE = 3, 2
CONV_SIDE = IMAGE_SIDE // CONV_STRIDE**CONV_LAYERS  # 7: side of the innermost map
FILTERS_MIN, FILTERS_MAX = 1, 256
FILTERS_DEFAULT = (32, 64)
# A size-aware conv model (``filters`` empty) adds stride-2 stages while the
# sides halve evenly and the innermost map keeps a side of at least
# CONV_INNER_MIN, doubling the channels from GROWING_FILTERS_FIRST each stage
# (capped at FILTERS_MAX): 28x28 -> 2 stages (32, 64), as the conv preset;
# 32x32 -> 3 (32, 64, 128); 64x64 -> 4 (32, 64, 128, 256). The 4x4 end was
# chosen against an 8x8 one on the shapes validation split (docs/training.md).
CONV_INNER_MIN = 4
GROWING_FILTERS_FIRST = 32

PRESETS: dict[str, tuple[int, ...]] = {
    # The Keras tutorial's architecture: 784 -> 256 -> 2 -> 256 -> 784.
    "tutorial": (256,),
    # Two hidden layers each side: 784 -> 512 -> 256 -> 2 -> 256 -> 512 -> 784.
    "deep": (512, 256),
}
# Presets of the conv architecture, by name: (filters, hidden widths).
CONV_PRESETS: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    # 28x28x1 -> conv 32 -> conv 64 -> 3136 -> 256 -> 2, decoder
    # 2 -> 256 -> 3136 -> deconv 64 -> deconv 32 -> deconv 1 (the Keras VAE
    # example's layers, with a 256-wide dense layer each side).
    "conv": (FILTERS_DEFAULT, (256,)),
    # Sized for the data (empty filters: see CONV_INNER_MIN): one more stride-2
    # stage per doubling of the side, so the dense layers always start from a
    # 4x4 to 7x7 map; on 32x32x3 images 32x32x3 -> 16x16x32 -> 8x8x64 ->
    # 4x4x128 -> 256 -> 2, on MNIST the conv preset's layers.
    "conv-deep": ((), (256,)),
}
PRESET_NAMES = (*PRESETS, *CONV_PRESETS)
DEFAULT_PRESET = "tutorial"  # the command's and the Retrain form's first choice


def growing_filters(height: int, width: int) -> tuple[int, ...]:
    """The channels of a size-aware conv model's stride-2 stages for images of
    ``height x width``: one stage per halving while both sides stay whole and
    at least CONV_INNER_MIN (at most MAX_CONV_LAYERS), channels doubling from
    GROWING_FILTERS_FIRST; ``()`` when not even one stage fits (odd sides)."""
    stages = 0
    while stages < MAX_CONV_LAYERS and all(
        side % CONV_STRIDE ** (stages + 1) == 0
        and side // CONV_STRIDE ** (stages + 1) >= CONV_INNER_MIN
        for side in (height, width)
    ):
        stages += 1
    return tuple(min(GROWING_FILTERS_FIRST * 2**i, FILTERS_MAX) for i in range(stages))


def _describe_growing(hidden: tuple[int, ...]) -> str:
    """A size-aware preset's layers without the input's size, with the
    stages it gets at 28, 32, 64 and 128 pixels: for ``--help``."""
    sizes = ", ".join(
        "-".join(f"conv{n}" for n in growing_filters(side, side)) + f" at {side} px"
        for side in (IMAGE_SIDE, 32, LIVE_SIDE_MAX, IMAGE_SIDE_MAX)
    )
    widths = "-".join(str(n) for n in (*hidden, ModelConfig().latent_dim))
    return f"image-convs-{widths}, one stride-2 stage per halving down to 4x4 ({sizes})"


def preset_summary() -> str:
    """What each preset builds, without the input's size (the data sets it),
    e.g. ``tutorial: image-256-2; ...``: for ``--help`` and the Retrain form."""
    layers = "; ".join(
        f"{name}: {_describe_growing(CONV_PRESETS[name][1])}"
        if name in CONV_PRESETS and not CONV_PRESETS[name][0]
        else f"{name}: {ModelConfig.preset(name).describe(False, with_input=False)}"
        for name in PRESET_NAMES
    )
    latent = ModelConfig().latent_dim
    return (
        f"{layers} (image: the data's pixels, {latent}: the default latent size; "
        "the decoder mirrors the encoder)"
    )


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


def check_dataset_name(value: Any) -> str:
    """``value`` if it names a data set (built-in or own), else ValueError."""
    return check_name("dataset", value, BUILTIN_DATASETS, DATASET_NAME)


def _check_widths(
    value: Any, count: tuple[int, int], what: str, item: str, low: int, high: int
) -> tuple[int, ...]:
    """A tuple (lists accepted) of ``count[0]`` to ``count[1]`` numbers."""
    widths = tuple(value) if isinstance(value, list) else value
    if not isinstance(widths, tuple) or not count[0] <= len(widths) <= count[1]:
        raise ValueError(f"{what}, got {value!r}")
    for width in widths:
        check_int(item, width, low, high)
    return widths


def _check_image_shape(config: ModelConfig) -> tuple[int, int, int]:
    """``(height, width, channels)``: sides 8 to 128 for a conv model, to 64
    for a dense one; 1 or 3 channels; a conv model's sides divisible by 2 to
    the power of its stride-2 stages (each halves them), and a size-aware
    one's with at least one stage."""
    shape = _check_widths(
        config.image_shape,
        (3, 3),
        "image shape must list height, width and channels",
        "image side",
        1,
        IMAGE_SIDE_MAX,
    )
    height, width, channels = shape
    for side in (height, width):
        check_int("image side", side, IMAGE_SIDE_MIN, IMAGE_SIDE_MAX)
    if channels not in CHANNELS:
        raise ValueError(f"images must have 1 or 3 channels, got {channels}")
    if config.architecture != "conv":
        if max(height, width) > LIVE_SIDE_MAX:
            raise ValueError(
                f"images of {height}x{width} need a conv model: a dense one takes "
                f"sides up to {LIVE_SIDE_MAX} (--image-size {LIVE_SIDE_MAX} or less)"
            )
        return shape
    if not config.filters and not growing_filters(height, width):
        raise ValueError(
            "a size-aware conv model (no filters given) needs image sides "
            f"divisible by {CONV_STRIDE} with halves of at least "
            f"{CONV_INNER_MIN} pixels, got {height}x{width}"
        )
    step = CONV_STRIDE ** len(config.filters)
    if height % step or width % step:
        raise ValueError(
            f"a conv model with {len(config.filters)} stride-2 stages needs image "
            f"sides divisible by {step}, got {height}x{width}"
        )
    return shape


def check_batch_size(config: TrainConfig, available: int) -> None:
    """Raise ValueError if a batch is larger than the images trained on."""
    count = min(config.train_size or available, available)
    if config.batch_size > count:
        raise ValueError(
            f"batch size {config.batch_size} is larger than the {count} "
            "training images; choose at most that many"
        )


@dataclass(frozen=True)
class ModelConfig:
    """The architecture of a VAE on images of ``image_shape`` (MNIST's 28x28
    unless the data says otherwise).

    ``architecture`` is ``"dense"`` (fully connected layers only) or ``"conv"``
    (one stride-2 convolution per entry of ``filters``, with that many
    channels, before the dense layers, and as many stride-2 transposed
    convolutions plus a ``channels``-filter one after them in the decoder;
    empty ``filters``: as many as the image size allows, see
    :func:`growing_filters` and :attr:`conv_filters`). ``hidden`` lists the
    encoder's dense hidden widths from the input inwards; the decoder mirrors
    it. ``filters`` only applies to the conv architecture and must keep its
    default for a dense one. ``beta`` weights the KL term of the training loss.
    """

    # One line per setting: default, name in messages, help, limits, CLI, form.
    hidden: tuple[int, ...] = setting(
        PRESETS["tutorial"],
        "hidden widths",
        "dense hidden widths from the input inwards, e.g. 512,256",
        low=HIDDEN_MIN,
        high=HIDDEN_MAX,
        form=True,
        label="Hidden widths",
        preset=True,
    )
    decoder_hidden: tuple[int, ...] = setting(
        (),
        "decoder widths",
        "the decoder's dense hidden widths from z outwards, e.g. 256,512,1024; "
        "empty: the encoder's widths in reverse",
        low=HIDDEN_MIN,
        high=HIDDEN_MAX,
    )
    latent_dim: int = setting(
        2,
        "latent size",
        "size of the latent space",
        low=LATENT_MIN,
        high=LATENT_MAX,
        form=True,
        label="Latent size",
    )
    beta: float = setting(
        1.0,
        "beta",
        "weight of the KL term",
        low=BETA_MIN,
        high=BETA_MAX,
        form=True,
        step=0.1,
    )
    architecture: str = setting(
        "dense",
        "architecture",
        "dense: fully connected layers only; conv: two stride-2 Conv2D layers "
        "before the dense ones and Conv2DTranspose layers after them",
        choices=ARCHITECTURES,
        form=True,
        preset=True,
    )
    filters: tuple[int, ...] = setting(
        FILTERS_DEFAULT,
        "filters",
        "channels of the stride-2 convolution layers, one per stage (1 to "
        f"{MAX_CONV_LAYERS}; the image sides must be divisible by 2 per stage), "
        "conv architecture only; empty: grow with the image size (see the "
        "conv-deep preset)",
        low=FILTERS_MIN,
        high=FILTERS_MAX,
        preset=True,
    )
    dropout: float = setting(
        0.0,
        "dropout",
        "share of each of the encoder's dense hidden units dropped while training "
        "(Srivastava et al. 2014), against an encoder that overfits; 0: none",
        low=0.0,
        high=DROPOUT_MAX,
    )
    input_dropout: float = setting(
        0.0,
        "input dropout",
        "share of the encoder's input values dropped while training (a denoising "
        "encoder, Im et al. 2017; the loss still reconstructs the whole image); "
        "0: none",
        low=0.0,
        high=DROPOUT_MAX,
    )
    image_shape: tuple[int, ...] = setting(
        MNIST_SHAPE,
        "image shape",
        "height, width and channels of the images, set from the data",
        low=1,
        high=IMAGE_SIDE_MAX,
        cli=False,
    )

    def __post_init__(self) -> None:
        check_settings(self)
        hidden = _check_widths(
            self.hidden,
            (1, MAX_HIDDEN_LAYERS),
            f"hidden must list 1 to {MAX_HIDDEN_LAYERS} layer widths",
            "hidden width",
            HIDDEN_MIN,
            HIDDEN_MAX,
        )
        object.__setattr__(self, "hidden", hidden)
        decoder_hidden = _check_widths(
            self.decoder_hidden,
            (0, MAX_HIDDEN_LAYERS),
            f"decoder widths must list 0 to {MAX_HIDDEN_LAYERS} layer widths",
            "decoder width",
            HIDDEN_MIN,
            HIDDEN_MAX,
        )
        object.__setattr__(self, "decoder_hidden", decoder_hidden)
        filters = _check_widths(
            self.filters,
            (0, MAX_CONV_LAYERS),
            f"filters must list 1 to {MAX_CONV_LAYERS} channel counts (one per "
            "convolution layer), or none to grow with the image size",
            "filter count",
            FILTERS_MIN,
            FILTERS_MAX,
        )
        if self.architecture == "dense" and filters != FILTERS_DEFAULT:
            raise ValueError(
                f"filters apply only to the conv architecture; a dense model "
                f"must keep the default {FILTERS_DEFAULT}, got {filters}"
            )
        object.__setattr__(self, "filters", filters)
        object.__setattr__(self, "image_shape", _check_image_shape(self))

    @property
    def conv_filters(self) -> tuple[int, ...]:
        """The channels of the stride-2 convolutions the model has, one per
        stage: ``filters``, or for a size-aware conv model (``filters`` empty)
        the ones :func:`growing_filters` gives for ``image_shape``; ``()`` for
        a dense model."""
        if self.architecture != "conv":
            return ()
        return self.filters or growing_filters(*self.image_shape[:2])

    @property
    def decoder_widths(self) -> tuple[int, ...]:
        """The decoder's dense hidden widths from z outwards."""
        return self.decoder_hidden or tuple(reversed(self.hidden))

    @property
    def n_pixels(self) -> int:
        """Values per image: height x width x channels."""
        height, width, channels = self.image_shape
        return height * width * channels

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> ModelConfig:
        """The named preset (one of PRESET_NAMES) with optional overrides."""
        check_choice("preset", name, PRESET_NAMES)
        if name in CONV_PRESETS:
            filters, hidden = CONV_PRESETS[name]
            preset = {"hidden": hidden, "architecture": "conv", "filters": filters}
            return cls(**{**preset, **overrides})
        return cls(hidden=PRESETS[name], **overrides)

    @property
    def preset_name(self) -> str | None:
        """The preset this architecture matches, or None for a custom one.

        A conv model matches a preset whose layers it has at its image size: a
        folder stores a size-aware model's filters as numbers, and it is still
        named after its preset. At 28x28 the conv-deep preset's layers are the
        conv preset's; a model built with empty filters names conv-deep."""
        if self.decoder_hidden:
            return None
        if self.architecture != "conv":
            for name, hidden in PRESETS.items():
                if hidden == self.hidden:
                    return name
            return None
        matches = [
            name
            for name, (filters, hidden) in CONV_PRESETS.items()
            if hidden == self.hidden
            and (filters or growing_filters(*self.image_shape[:2])) == self.conv_filters
        ]
        exact = [n for n in matches if CONV_PRESETS[n][0] == self.filters]
        return (exact or matches or [None])[0]

    def describe(self, with_preset: bool = True, with_input: bool = True) -> str:
        """A one-line human description, e.g. ``784-256-2 (tutorial)`` or
        ``784-conv32-conv64-256-2 (conv)``; the preset's name only if asked.
        Without ``with_input`` the image's values are ``image`` (``image-256-2``):
        what a preset builds before the data sets its size."""
        convs = [f"conv{n}" for n in self.conv_filters]
        pixels = self.n_pixels if with_input else "image"
        layers = "-".join(
            str(n) for n in (pixels, *convs, *self.hidden, self.latent_dim)
        )
        if self.decoder_hidden:
            outwards = (self.latent_dim, *self.decoder_hidden, pixels)
            layers += ", decoder " + "-".join(str(n) for n in outwards)
        name = self.preset_name if with_preset else None
        return f"{layers} ({name})" if name else layers

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings; ``filters`` is written for conv models only,
        as the channel counts the model has (a size-aware model's too, so a
        folder's layers do not change if the growth rule ever does)."""
        data: dict[str, Any] = {
            "hidden": list(self.hidden),
            "latent_dim": self.latent_dim,
            "beta": self.beta,
            "architecture": self.architecture,
        }
        if self.architecture == "conv":
            data["filters"] = list(self.conv_filters)
        if self.decoder_hidden:  # else the mirror of hidden, unwritten
            data["decoder_hidden"] = list(self.decoder_hidden)
        for name in ("dropout", "input_dropout"):  # older folders: none, unwritten
            if getattr(self, name):
                data[name] = getattr(self, name)
        if self.image_shape != MNIST_SHAPE:  # older folders: MNIST's, unwritten
            data["image_shape"] = list(self.image_shape)
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
    ``vaeapp.train.engine.auto_steps_per_chunk``); see :mod:`vaeapp.train.batches`.
    The Retrain form starts with 5 epochs on 10,000 images: a quick run.
    """

    # One line per setting: default, name in messages, help, limits, CLI, form.
    epochs: int = setting(
        200,
        "epochs",
        "passes over the training images",
        low=1,
        high=EPOCHS_MAX,
        form=True,
        form_default=5,
    )
    batch_size: int = setting(
        100, "batch size", "images per training step", low=1, high=BATCH_MAX, form=True
    )
    learning_rate: float = setting(
        1e-3,
        "learning rate",
        "(initial) learning rate",
        low=LR_MIN,
        high=LR_MAX,
        flag="--lr",
        form=True,
        step=1e-4,
    )
    optimizer: str = setting(
        "adam",
        "optimizer",
        "adamw: Adam with decoupled weight decay; sgd: with momentum 0.9",
        choices=OPTIMIZERS,
        form=True,
    )
    weight_decay: float = setting(
        0.004, "weight decay", "decoupled weight decay, adamw only", low=0.0, high=1.0
    )
    schedule: str = setting(
        "cosine",
        "schedule",
        "learning-rate schedule; cosine decays to the final fraction",
        choices=SCHEDULES,
    )
    final_lr_fraction: float = setting(
        0.01,
        "final learning-rate fraction",
        "the cosine schedule's last rate, as a fraction of the first",
        low=0,
        high=1,
    )
    kl_warmup: int = setting(
        0,
        "KL warm-up epochs",
        "epochs over which the KL weight ramps from 0 to beta",
        low=0,
        high=EPOCHS_MAX,
    )
    train_size: int = setting(
        0,
        "training-set size",
        "train on this many images, 0 for all",
        low=0,
        high=BATCH_MAX,
        form=True,
        label="Training images",
        form_default=10_000,
        step=1000,
    )
    seed: int = setting(
        0,
        "seed",
        "seed of the weights, sampling and data order",
        low=0,
        high=SEED_MAX,
        form=True,
    )
    dataset: str = setting(
        "mnist",
        "dataset",
        "the images to train on: mnist, fashion_mnist, shapes (generated), or "
        "the name of your own data set (default with --data: taken from its path)",
        choices=BUILTIN_DATASETS,
        pattern=DATASET_NAME,
        form=True,
        label="Data",
    )
    image_size: int = setting(
        0,
        "image size",
        "bring every image to this many pixels square: scaled so that its short "
        "side fits, then centre-cropped; 0: keep the data's size if every image "
        f"has it and its sides are {IMAGE_SIDE_MIN} to {IMAGE_SIDE_MAX}, else 32; "
        f"above {LIVE_SIDE_MAX} with a conv model only",
        low=0,
        high=IMAGE_SIDE_MAX,
        form=True,
    )
    color: str = setting(
        "auto",
        "colour",
        "grey or rgb images; auto: grey when every image has equal red, green "
        "and blue, else rgb",
        choices=COLORS,
        form=True,
    )
    background: str = setting(
        "black",
        "background",
        "what the transparent pixels of a folder's images become",
        choices=BACKGROUNDS,
        form=True,
    )
    test_share: float = setting(
        0.1,
        "test share",
        "share of the images held out as the test set when the data has none "
        "(the same images on every run; at most 1,000,000)",
        low=TEST_SHARE_MIN,
        high=TEST_SHARE_MAX,
    )
    validation_size: int = setting(
        5000,
        "validation-set size",
        "training images held out to validate each epoch and choose the best "
        "one: the same images on every run, at most a tenth of the training "
        "images; 0 for none",
        low=0,
        high=VALIDATION_MAX,
    )
    keep_best: bool = setting(
        False,
        "keep the best epoch",
        "keep the weights of the epoch with the lowest validation -ELBO",
        flag="--keep-best",
        form=True,
        form_default=True,
        label="Keep the best epoch (on the validation split)",
    )
    patience: int = setting(
        0,
        "patience",
        "stop when the validation -ELBO has not improved for this many epochs; "
        "0: never stop early",
        low=0,
        high=EPOCHS_MAX,
    )
    steps_per_execution: int = setting(
        0,
        "steps per execution",
        "batches per compiled call, 0 for automatic",
        low=0,
        high=1_000_000,
    )
    ema_momentum: float = setting(
        0.0,
        "EMA momentum",
        "keep an exponential moving average of the weights with this momentum "
        "per step and validate, keep and publish the averaged weights (Polyak "
        "averaging); 0: off",
        low=0.0,
        high=EMA_MAX,
        flag="--ema",
    )
    weights_dtype: str = setting(
        "float32",
        "weights dtype",
        "how the model folder stores the weights; float16 halves the file, and "
        "the test figures are measured on the rounded weights",
        choices=WEIGHTS_DTYPES,
    )
    jit_compile: bool = setting(
        True,
        "jit_compile",
        "compile with XLA (dense models; conv models only on a GPU, as XLA's CPU "
        "convolutions are far slower)",
        flag="--no-jit",
    )
    grid_size: int = setting(
        10,
        "grid size",
        "side of the manifold grid saved after chosen epochs, 0 for none",
        low=0,
        high=30,
    )

    global_batch_size: int = setting(
        0,
        "global batch size",
        "images per optimizer step over all processes of a data-parallel run "
        "(the batch size per process times the processes), set by the run; 0 "
        "in folders written before it was recorded: the batch size",
        low=0,
        high=BATCH_MAX * PROCESSES_MAX,
        cli=False,
    )

    def __post_init__(self) -> None:
        check_settings(self)
        if self.global_batch_size % self.batch_size:
            raise ValueError(
                f"the global batch size {self.global_batch_size} must be a "
                f"multiple of the batch size per process {self.batch_size}"
            )
        if (self.keep_best or self.patience) and not self.validation_size:
            raise ValueError(
                "keep-best and patience choose epochs on the validation split: "
                "give a validation-set size above 0"
            )
        if self.ema_momentum and self.patience and not self.keep_best:
            raise ValueError(
                "an early stop with EMA keeps the averaged weights only with "
                "keep-best: add keep-best, or set patience to 0"
            )
        if self.image_size and self.image_size < IMAGE_SIDE_MIN:
            raise ValueError(
                f"image size must be 0 or between {IMAGE_SIDE_MIN} and "
                f"{IMAGE_SIDE_MAX}, got {self.image_size}"
            )

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
    except (TypeError, OverflowError, RecursionError) as error:
        raise ValueError(f"{cls.__name__} is malformed: {error}") from None


@dataclass(frozen=True)
class RefineConfig:
    """How a model folder refines q(z|x) per image after its encoder: Adam
    steps on the image's own negative ELBO with the decoder fixed
    (:mod:`vaeapp.inference.refinement`). A folder without this section uses the
    encoder's q as it is. The defaults are the settings chosen on
    ``mnist-wide``'s validation split (docs/training.md)."""

    steps: int = setting(
        50,
        "refine steps",
        "Adam steps on each image's own negative ELBO, starting from the encoder's q",
        low=1,
        high=REFINE_STEPS_MAX,
    )
    learning_rate: float = setting(
        0.03,
        "refine learning rate",
        "Adam's step size for the means and log-variances",
        low=1e-4,
        high=1.0,
    )
    draws: int = setting(
        8,
        "refine draws",
        "draws of z per step for the gradient of the expected reconstruction",
        low=1,
        high=REFINE_DRAWS_MAX,
    )
    seed: int = setting(
        0,
        "refine seed",
        "seed of the draws (the same for every image, so an image's q does not "
        "depend on the others encoded with it)",
        low=0,
        high=SEED_MAX,
    )

    def __post_init__(self) -> None:
        check_settings(self)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> RefineConfig:
        return _from_dict(cls, data)
