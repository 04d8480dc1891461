"""``vaeapp serve``: start the page from wherever the package is installed.

Streamlit reads a script's own settings from the ``.streamlit/config.toml``
beside it and serves the ``static/`` folder beside it
(:mod:`vaeapp.ui.static_files` writes the browser's cacheable files there).
Inside an installed package that folder may not be writable, and must not be
written, so the command runs the page from a folder of its own: ``app.py``
(what the checkout's ``app.py`` holds) and ``.streamlit/config.toml`` (the
package's ``streamlit_config.toml``), written when they differ, and the
``static/`` the page fills. The folder is ``$VAEAPP_PAGE_DIR``, or
``vaeapp/page`` in the user's cache (``$XDG_CACHE_HOME``, else ``~/.cache``);
everything in it is made again when missing, and any number of servers may
share it (writes are atomic). Models trained or uploaded still go to
``$VAEAPP_HOME`` (default ``./runs``), as with ``streamlit run app.py``.

Streamlit's own options pass through (``--server.port 8600``), and its
``STREAMLIT_*`` variables work as usual: both override the package's settings.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import click
from streamlit.web import cli as streamlit_cli

from vaeapp.core.options import CommandParser
from vaeapp.ui.static_files import write_atomically

PROG = "python -m vaeapp.ui.serve"
PAGE_DIR_ENV = "VAEAPP_PAGE_DIR"
CONFIG_FILE = Path(__file__).resolve().with_name("streamlit_config.toml")
# The page's script: the same two lines as the checkout's app.py.
SCRIPT = '''"""The page of `vaeapp serve` (vaeapp/ui/serve.py); written by it."""

from vaeapp.ui.start import run

run()
'''


def page_dir() -> Path:
    """The folder the page runs from: ``$VAEAPP_PAGE_DIR`` or the user's cache."""
    given = os.environ.get(PAGE_DIR_ENV)
    if given:
        return Path(given).expanduser().resolve()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache).expanduser().resolve() / "vaeapp" / "page"


def _write_if_changed(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically unless it holds them already."""
    try:
        if path.read_bytes() == data:
            return
    except OSError:
        pass
    write_atomically(path, data)


def prepare(folder: Path) -> Path:
    """Write the page's script and settings into ``folder``; return the script.

    Raises OSError when the folder cannot be written.
    """
    script = folder / "app.py"
    # Streamlit looks for static/ once, at start: it must exist before.
    (folder / "static").mkdir(parents=True, exist_ok=True)
    _write_if_changed(folder / ".streamlit" / "config.toml", CONFIG_FILE.read_bytes())
    _write_if_changed(script, SCRIPT.encode("utf-8"))
    return script


def build_parser(prog: str = PROG) -> CommandParser:
    """The command line: only ``--help`` is its own; the rest goes to Streamlit."""
    return CommandParser(
        prog=prog,
        usage=f"{prog} [--section.option VALUE ...]",
        description="Start the explorer's page (Streamlit) from the installed "
        "package. Every other argument is a Streamlit option, passed through: "
        "for example --server.port 8600 --server.address 0.0.0.0 "
        "(`streamlit run --help` lists them). Models trained or uploaded go to "
        "$VAEAPP_HOME (default ./runs); the page's own folder (its script, "
        f"settings and static files) is ${PAGE_DIR_ENV} (default "
        "~/.cache/vaeapp/page).",
    )


def main(argv: Sequence[str] | None = None, prog: str = PROG) -> int:
    """Run the page until it is stopped; returns the exit status (2 for a bad
    option or an unwritable page folder)."""
    parser = build_parser(prog)
    _, options = parser.parse_known_args(argv)
    try:
        script = prepare(page_dir())
    except OSError as error:
        parser.error(f"cannot write the page's folder: {error}")
    try:
        streamlit_cli.main.main(
            args=["run", str(script), *options],
            prog_name=prog,
            standalone_mode=False,
        )
    except click.ClickException as error:
        parser.error(error.format_message())
    except click.exceptions.Abort:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
