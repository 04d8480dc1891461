"""The ``vaeapp`` command: one entry point for everything the project does.

``vaeapp COMMAND [ARGS]`` hands the rest of the line to that command's
``main``; each command also runs as ``python -m vaeapp.<command>`` (``serve``
as ``python -m vaeapp.ui.serve``). A command's module is imported only when it
runs, so ``vaeapp --help``, ``vaeapp serve`` and ``vaeapp export`` never load
TensorFlow; only ``vaeapp train`` does.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from vaeapp import __version__
from vaeapp.core.options import CommandParser

PROG = "vaeapp"


def _serve(argv: Sequence[str], prog: str) -> int:
    from vaeapp.ui.serve import main

    return main(argv, prog)


def _train(argv: Sequence[str], prog: str) -> int:
    from vaeapp.train.command import main

    return main(argv, prog)


def _export(argv: Sequence[str], prog: str) -> int:
    from vaeapp.export.command import main

    return main(argv, prog)


def _evaluate(argv: Sequence[str], prog: str) -> int:
    from vaeapp.evaluate import main

    return main(argv, prog)


def _refine(argv: Sequence[str], prog: str) -> int:
    from vaeapp.refine import main

    return main(argv, prog)


# Each command: what it does (for --help) and how it runs.
COMMANDS: dict[str, tuple[str, Callable[[Sequence[str], str], int]]] = {
    "serve": ("start the page (Streamlit options pass through)", _serve),
    "train": ("train a VAE and write a model folder (needs vaeapp[train])", _train),
    "export": ("write a model's explorer as one HTML file", _export),
    "evaluate": ("add IWAE -log p(x) and 5-NN figures to a model folder", _evaluate),
    "refine": ("refine a model folder's q(z|x) per image", _refine),
}


def build_parser() -> CommandParser:
    """The top-level command line: a command name, then that command's own."""
    listing = "\n".join(f"  {name:<10}{what}" for name, (what, _) in COMMANDS.items())
    parser = CommandParser(
        prog=PROG,
        usage=f"{PROG} [-h] [--version] COMMAND [ARGS ...]",
        description="An interactive latent-space explorer for variational "
        "autoencoders.",
        epilog=f"commands:\n{listing}\n\n`{PROG} COMMAND --help` lists a "
        "command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"vaeapp {__version__}")
    parser.add_argument(
        "command",
        nargs="?",
        choices=COMMANDS,
        metavar="COMMAND",
        help="one of the commands below",
    )
    parser.add_argument("args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``vaeapp``; returns the command's exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.error(f"name a command: {', '.join(COMMANDS)}")
    _, run = COMMANDS[args.command]
    return run(args.args, f"{PROG} {args.command}")
