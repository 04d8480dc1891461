"""The export command: ``python -m vaeapp.export --model NAME_OR_PATH --out
FILE.html`` writes the one-file explorer of :mod:`vaeapp.export.html_file`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from vaeapp.core.options import CommandParser
from vaeapp.core.safe_json import one_line
from vaeapp.export.html_file import write_export
from vaeapp.store.format import ModelFolderError
from vaeapp.store.listing import MODEL_HELP, find_model
from vaeapp.store.reading import load_model

PROG = "python -m vaeapp.export"


def main(argv: Sequence[str] | None = None, prog: str = PROG) -> int:
    """The command line (``prog`` names it in help and errors); returns the
    exit status (2 for bad arguments or an unusable model folder)."""
    parser = CommandParser(
        prog=prog,
        description="Write one self-contained HTML file exploring a model; it "
        "opens from disk with no server and no network.",
    )
    parser.add_argument(
        "--model",
        required=True,
        help=MODEL_HELP,
    )
    parser.add_argument("--out", required=True, type=Path, help="the .html file")
    parser.add_argument(
        "--plane",
        default=None,
        help="for more than two latent dimensions: 'umap' (the folder's stored "
        "UMAP plane; the default where it has one), 'pca' (the default "
        "otherwise) or two dimensions 'i,j' counted from 1",
    )
    args = parser.parse_args(argv)
    try:
        model = load_model(find_model(args.model))
        size = write_export(model, args.out, args.plane)
    except (ValueError, ModelFolderError) as error:
        # ModelFolderError is a ValueError too; named for the reader.
        parser.exit(2, f"{parser.prog}: error: {one_line(error, 1000)}\n")
    print(f"wrote {args.out} ({size / 1e6:.2f} MB)")
    return 0
