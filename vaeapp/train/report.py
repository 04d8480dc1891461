"""What a training run says in words: before it trains, the notes on what it
decided from the data (the model and its images' size and colour, a
validation split smaller than asked, the classes without a test image);
while it trains, the time left and the lines it prints.

The command prints the notes and the progress file carries them to the page;
:class:`vaeapp.train.callbacks.ProgressReport` prints the rest. :class:`LogFiles`
names the logs a run writes besides (``--tensorboard``, ``--csv``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vaeapp.core.config import ModelConfig, TrainConfig
from vaeapp.data.sources import VALIDATION_SHARE_MAX, Dataset, validation_count
from vaeapp.jobs.progress import duration

MAX_CLASSES_NAMED = 5  # classes a note names before "and N more"


@dataclass(frozen=True)
class LogFiles:
    """Where a run logs its figures besides the progress file, through Keras's
    own callbacks: a TensorBoard log folder (losses, validation figures, the
    grid snapshots as images) and a CSV file (one row per epoch); None: not.
    ``csv_append``: a resumed run adds its epochs to the rows already there."""

    tensorboard: Path | None = None
    csv: Path | None = None
    csv_append: bool = False


NO_LOG_FILES = LogFiles()


def run_notes(
    model_config: ModelConfig, config: TrainConfig, data: Dataset
) -> list[str]:
    """Lines on what the run decided from the data, for the output and the
    progress file: the model and its images' size and colour, a validation
    split smaller than asked, and the classes without a test image (which
    the map's legend will lack)."""
    notes = [_images_note(model_config, config)]
    validation = _validation_note(config, data.x_train.shape[0])
    untested = _untested_classes_note(data)
    return notes + [note for note in (validation, untested) if note]


def _images_note(model_config: ModelConfig, config: TrainConfig) -> str:
    """E.g. ``model 3072-256-2 (tutorial) on 32x32 RGB images (image size 32;
    colour auto: not every image is grey)``."""
    height, width, channels = model_config.image_shape
    kind = "grey" if channels == 1 else "RGB"
    size = f"image size {config.image_size}" if config.image_size else "their own size"
    if config.color != "auto":
        colour = f"colour {config.color}"
    elif channels == 1:
        colour = "colour auto: every image is grey"
    else:
        colour = "colour auto: not every image is grey"
    return (
        f"model {model_config.describe()} on {height}x{width} {kind} images "
        f"({size}; {colour})"
    )


def _validation_note(config: TrainConfig, count: int) -> str | None:
    """A line when the validation split holds fewer images than asked."""
    held = validation_count(count, config.validation_size)
    if held >= config.validation_size:
        return None
    share = f"{VALIDATION_SHARE_MAX:.0%}"
    if not held:
        return (
            f"no validation split: {count:,} training images are too few for "
            f"any ({config.validation_size:,} asked; it takes at most {share})"
        )
    return (
        f"validation split: {_images(held)}, {share} of the {count:,} training "
        f"images ({config.validation_size:,} asked; it takes at most {share})"
    )


def _images(count: int) -> str:
    """``"1 image"``, ``"3,420 images"``."""
    return f"{count:,} image" + ("" if count == 1 else "s")


def _untested_classes_note(data: Dataset) -> str | None:
    """A line naming the classes with training images but no test image:
    they get no point on the map and no entry in its legend."""
    if data.class_names is None:
        return None
    classes = len(data.class_names)
    trained = np.bincount(data.y_train, minlength=classes)
    tested = np.bincount(data.y_test, minlength=classes)
    missing = [i for i in range(classes) if trained[i] and not tested[i]]
    if not missing:
        return None
    named = ", ".join(
        f"'{data.class_names[i]}' ({_images(trained[i])})"
        for i in missing[:MAX_CLASSES_NAMED]
    )
    more = len(missing) - MAX_CLASSES_NAMED
    named += f" and {more} more" if more > 0 else ""
    which = "class" if len(missing) == 1 else f"{len(missing)} classes"
    return (
        f"no test image for {which} {named}: no point on the map and no entry "
        "in its legend; a larger test share holds out more where the data has "
        "no test split"
    )


def seconds_left(
    done: list[float], epochs: int, elapsed: float = 0.0, fraction: float = 0.0
) -> float | None:
    """Seconds to the end of the last of ``epochs`` epochs, or None before
    anything was timed. ``done`` holds the seconds each finished epoch took;
    the one now running took ``elapsed`` for ``fraction`` of its batches. The
    first epoch (it includes compiling) sets the pace only until a second
    one has finished."""
    if len(done) >= epochs:
        return 0.0
    running = elapsed / fraction if fraction > 0 else None
    pace = float(np.mean(done[1:] if len(done) > 1 else done)) if done else running
    if pace is None:
        return None
    this_epoch = running - elapsed if running is not None else pace
    return max(0.0, this_epoch + (epochs - len(done) - 1) * pace)


def _left(seconds: float | None) -> str:
    """``", about 3 min left"``, or nothing when unknown or none is left."""
    return f", about {duration(seconds)} left" if seconds else ""


def epoch_line(
    row: dict[str, float], epochs: int, left: float | None, validating: bool
) -> str:
    """The line printed when an epoch ends: its figures (a row of the run's
    history), with the validation -ELBO when the run ``validating``, its
    seconds and the ``left`` seconds to go; it starts with a carriage return,
    over the progress bar."""
    validation = (
        f"validation -ELBO {row['val_neg_elbo']:.2f} nats  |  " if validating else ""
    )
    return (
        f"\repoch {int(row['epoch'])}/{epochs}  recon {row['recon']:.2f}  "
        f"kl {row['kl']:.2f}  total {row['neg_elbo']:.2f}  |  "
        f"{validation}{row['seconds']:.1f} s{_left(left)}"
    )
