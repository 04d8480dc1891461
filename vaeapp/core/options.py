"""Command-line options generated from the settings in :mod:`vaeapp.core.config`:
one ``argparse`` option per field, with its limits and default in the help.
Used by :mod:`vaeapp.train` and :mod:`vaeapp.refine`; :class:`CommandParser`, the
parser of every command, says a wrong argument in one line."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any, NoReturn

from vaeapp.core.config import parse_widths
from vaeapp.core.safe_json import one_line
from vaeapp.core.settings import Setting, settings

# The training command's options for a RefineConfig: --refine-steps and so on.
REFINE_PREFIX = "refine"


class CommandParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line: what was wrong and
    where the options are listed, without the usage text (33 lines for the
    training command) above it."""

    def error(self, message: str) -> NoReturn:
        """Print ``PROG: error: MESSAGE (PROG --help lists the options)``; exit 2."""
        self.exit(
            2,
            f"{self.prog}: error: {one_line(message)} ({self.prog} --help "
            "lists the options)\n",
        )


def _widths_parser(what: str) -> Any:
    """An argparse type for comma-separated whole numbers named ``what``."""

    def parse(text: str) -> tuple[int, ...]:
        try:
            return parse_widths(text, what)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse


parse_hidden = _widths_parser("hidden widths")
parse_filters = _widths_parser("filters")


def flag(field: dataclasses.Field, spec: Setting) -> str:
    """The command-line option of a settings field, e.g. ``--batch-size``."""
    return spec.flag or "--" + field.name.replace("_", "-")


def option_name(field: dataclasses.Field, spec: Setting, prefix: str = "") -> str:
    """The option of a settings field, with ``prefix``: ``--refine-steps``."""
    if prefix:
        return "--" + f"{prefix}_{field.name}".replace("_", "-")
    return flag(field, spec)


def as_arguments(config: Any, prefix: str = "") -> list[str]:
    """Command-line arguments that give every setting of ``config`` (a
    settings dataclass, numbers and strings) its value: what a subprocess is
    started with (floats in full, so they come back exactly)."""
    out = []
    for field, spec in settings(type(config)):
        value = getattr(config, field.name)
        text = str(value) if isinstance(value, float) else _show(value)
        out += [option_name(field, spec, prefix), text]
    return out


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def add_setting(
    group: argparse._ArgumentGroup,
    field: dataclasses.Field,
    spec: Setting,
    prefix: str = "",
) -> None:
    """One option for ``field``; its default None means "not given". With a
    ``prefix`` (e.g. ``"refine"``) the option is ``--refine-steps`` and its
    value lands in ``args.refine_steps``."""
    dest = f"{prefix}_{field.name}" if prefix else field.name
    option = option_name(field, spec, prefix)
    if isinstance(field.default, bool):  # a switch away from the default
        group.add_argument(
            option,
            dest=dest,
            action="store_const",
            const=not field.default,
            default=None,
            help=f"do not {spec.help}" if field.default else spec.help,
        )
        return
    default = "the preset's" if spec.preset else _show(field.default)
    limits = f"{spec.limits}; " if spec.limits and not spec.choices else ""
    closed = spec.choices and spec.pattern is None  # else checked by the config
    options: dict[str, Any] = {"choices": spec.choices} if closed else {}
    if isinstance(field.default, tuple):
        options["type"] = _widths_parser(spec.name)
        limits = f"each {limits}"
    elif not closed:
        options["type"] = type(field.default)
    if not closed:
        options["metavar"] = option[2:].replace("-", "_").upper()
    group.add_argument(
        option,
        dest=dest,
        default=None,
        help=f"{spec.help} ({limits}default: {default})".replace("%", "%%"),
        **options,
    )


def given_settings(cls: type, args: argparse.Namespace, prefix: str = "") -> dict:
    """The fields of settings class ``cls`` given on the command line (their
    options made by :func:`add_setting` with ``prefix``), by field name."""
    found = {}
    for field, _ in settings(cls):
        value = getattr(args, f"{prefix}_{field.name}" if prefix else field.name, None)
        if value is not None:
            found[field.name] = value
    return found
