"""Refine a model folder's q(z|x) per image: ``python -m vaeapp.refine``.

Prints the negative ELBO of the folder's validation split (the training images
its run held out) with the encoder's q and with q refined per image
(:mod:`vaeapp.inference.refinement`), so the refinement's settings are chosen there.
``--write`` then refines the folder's test images and stores the result: the
refined q in latents.npz (the map), the refined figures in metrics.json (the
encoder's kept under ``encoder_*``) and the settings in config.json, which the
page then applies to every image it encodes. The importance-weighted and 5-NN
figures of the earlier q are dropped: rerun ``python -m vaeapp.evaluate
--write``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from vaeapp.core import safe_json
from vaeapp.core.config import RefineConfig
from vaeapp.core.options import CommandParser, add_setting, given_settings
from vaeapp.core.settings import settings
from vaeapp.data.errors import DataError
from vaeapp.inference.refinement import check_refinable
from vaeapp.store.format import ModelFolderError
from vaeapp.store.listing import MODEL_HELP, find_model
from vaeapp.store.reading import load_model
from vaeapp.store.refined import compare, figure_line, refine_folder, validation_images

PROG = "python -m vaeapp.refine"


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    """The command line, named ``prog``; the refinement's options come from
    RefineConfig."""
    parser = CommandParser(
        prog=prog,
        description="Refine a model folder's q(z|x) per image with Adam steps on "
        "each image's negative ELBO; print the validation split's figures, "
        "and with --write store the refined test set and settings.",
    )
    parser.add_argument("--model", required=True, help=MODEL_HELP)
    parser.add_argument(
        "--data", default=None, help="the model's data set (file or folder)"
    )
    group = parser.add_argument_group("refinement")
    for field, spec in settings(RefineConfig):
        add_setting(group, field, spec)
    parser.add_argument(
        "--write", action="store_true", help="refine the test set and store it"
    )
    return parser


def run(args: argparse.Namespace) -> list[str]:
    """Do what ``args`` ask; return the lines to print. Raises ValueError,
    DataError, ModelFolderError or OSError."""
    config = RefineConfig(**given_settings(RefineConfig, args))
    folder = find_model(args.model)
    model = load_model(folder)
    check_refinable(model.vae)
    lines = [
        f"{folder.name}: {config.steps} steps, rate {config.learning_rate:g}, "
        f"{config.draws} draws"
    ]
    x_val = validation_images(model, args.data)
    if args.write:
        lines += refine_folder(model, config, x_val)
        lines.append(
            "written; rerun python -m vaeapp.evaluate --map --write for the "
            "IWAE and 5-NN figures and the map's files of the refined q"
        )
    elif x_val is None:
        lines.append("validation: none (the run held no images out)")
    else:
        encoder, refined, _, seconds = compare(model, x_val, config)
        lines.append(figure_line("validation", (encoder, refined), seconds))
    return lines


def main(argv: Sequence[str] | None = None, prog: str = PROG) -> int:
    """The command line (``prog`` names it); returns the exit status (2 for bad
    arguments, data or folders)."""
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    try:
        lines = run(args)
    except (ValueError, DataError, ModelFolderError, OSError) as error:
        parser.exit(2, f"{parser.prog}: error: {safe_json.one_line(error, 300)}\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
