"""Finding models: listing the model folders, and the lookup of a model by name.

:func:`list_models` lists every folder, usable or not; :func:`find_model` is
the one lookup behind every command's ``--model`` and the page's ``?model=``
(shipped names first, then the trained-models folder, then a path);
:func:`best_pretrained` is the model the page opens on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from vaeapp.core.config import check_dataset_name
from vaeapp.store.format import (
    HOME_ENV,
    NAME_PATTERN,
    PRETRAINED_DIR,
    ModelFolderError,
    check_name,
    trained_dir,
)
from vaeapp.store.reading import read_record
from vaeapp.store.records import ModelRecord


@dataclass(frozen=True)
class Listing:
    """One folder found while listing: a usable record, or why it is unusable."""

    path: Path
    record: ModelRecord | None
    problem: str | None

    @property
    def name(self) -> str:
        return self.path.name


def list_models(*parents: Path) -> list[Listing]:
    """Every model folder under ``parents``, usable or not, sorted by name
    within each parent."""
    found = []
    for parent in parents:
        try:
            children = sorted(Path(parent).iterdir())
        except OSError:  # missing, not a folder, or unreadable
            continue
        for child in children:
            if child.name.startswith(".") or not child.is_dir():
                continue
            try:
                found.append(Listing(child, read_record(child), None))
            except ModelFolderError as error:
                if os.path.lexists(child):  # else removed meanwhile: not listed
                    found.append(Listing(child, None, str(error)))
    return found


# The --model option's help, the same for every command (find_model).
MODEL_HELP = (
    "a model's name as the page lists it (shipped, or trained or uploaded into "
    f"${HOME_ENV}, default ./runs) or a model folder's path"
)


def model_named(name: str) -> Path | None:
    """The folder a model's name stands for, or None when no model has it.

    Shipped names are protected: a shipped model's name always means the
    shipped folder (vaeapp/pretrained/), even when the trained-models folder
    (:func:`trained_dir`) holds a folder of that name too (``train --name``
    or an uploaded ``mnist-deep.zip`` can make one); that one is reached by
    its path. Any other name means the folder of that name in
    :func:`trained_dir`, the folders the page lists after the shipped ones.
    Raises ValueError for a name :func:`check_name` refuses, so that no name
    can reach outside those two folders.
    """
    check_name(name)
    for parent in (PRETRAINED_DIR, trained_dir()):
        if (parent / name).is_dir():
            return parent / name
    return None


def find_model(name_or_path: str, names_only: bool = False) -> Path:
    """The model folder ``name_or_path`` stands for: every command's
    ``--model`` and the page's ``?model=`` use this one lookup.

    A shipped model's name (``mnist-deep``), then the name of a folder in the
    trained-models folder (:func:`model_named`), then, unless ``names_only``
    (the page: a URL must not open folders by path), the path of a folder.
    Raises ValueError naming the places searched when nothing is found.
    """
    if not isinstance(name_or_path, str) or not name_or_path.strip():
        raise ValueError("the model must be a shipped model's name or a folder path")
    if names_only or NAME_PATTERN.match(name_or_path):
        found = _named_or_none(name_or_path, names_only)
        if found is not None:
            return found
    folder = Path(name_or_path).expanduser()
    if not names_only and folder.is_dir():
        return folder
    raise ValueError(_not_found(name_or_path, names_only))


def _named_or_none(name: str, names_only: bool) -> Path | None:
    """:func:`model_named`; a name it refuses counts as not found, unless the
    caller takes names only (then the refusal is the message)."""
    try:
        return model_named(name)
    except ValueError:
        if names_only:
            raise
        return None


def _not_found(name_or_path: str, names_only: bool) -> str:
    """Why ``name_or_path`` named no model, and where it was looked for (the
    page's message names no server folder)."""
    shipped = ", ".join(sorted(p.name for p in PRETRAINED_DIR.iterdir() if p.is_dir()))
    if names_only:
        return (
            f"no model {name_or_path!r}: neither a shipped model ({shipped}) nor "
            "a model trained or uploaded on this server has that name"
        )
    return (
        f"no model {name_or_path!r}: searched the shipped models ({shipped}), "
        f"the trained-models folder {trained_dir()} (${HOME_ENV}, or ./runs "
        "without it) and the path itself; give a name from either or a model "
        "folder's path"
    )


def best_by_validation(records: list[ModelRecord]) -> ModelRecord:
    """The record with the lowest validation negative ELBO; records without a
    validation figure come after every one that has it, ordered by their test
    figure. Models are chosen on held-out training images, not on the test
    set (docs/training.md)."""
    if not records:
        raise ValueError("there are no models to choose from")

    def rank(record: ModelRecord) -> tuple[bool, float]:
        held_out = record.val_neg_elbo
        figure = record.test_neg_elbo if held_out is None else held_out
        return (held_out is None, figure)

    return min(records, key=rank)


def best_pretrained(dataset: str = "mnist") -> Path:
    """The shipped 2-D model of ``dataset`` that :func:`best_by_validation`
    picks (the page opens on it: a 2-D map is the space itself, no
    projection), or of any latent size when the data set has no 2-D model."""
    check_dataset_name(dataset)
    usable = [
        item.record
        for item in list_models(PRETRAINED_DIR)
        if item.record is not None and item.record.dataset == dataset
    ]
    usable = [r for r in usable if r.model.latent_dim == 2] or usable
    if not usable:
        raise ModelFolderError(
            f"no usable pretrained {dataset} model in {PRETRAINED_DIR}"
        )
    return best_by_validation(usable).path
