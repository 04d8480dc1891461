"""How a config field declares itself (:func:`setting`): its default, limits,
help text and whether the Retrain form shows it; and the checks those
declarations drive, each raising ``ValueError`` saying what was wrong and
what is allowed. The dataclasses of :mod:`vaeapp.core.config` are made of
these; the command line, the Retrain form and config.json follow from them."""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Any


def check_int(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")
    return value


def check_float(
    name: str, value: Any, low: float, high: float, *, low_open: bool = False
) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        value = float(value)
    except OverflowError:  # an int beyond any float
        value = math.inf
    too_low = value <= low if low_open else value < low
    if not math.isfinite(value) or too_low or value > high:
        bracket = "(" if low_open else "["
        raise ValueError(f"{name} must be in {bracket}{low}, {high}], got {value}")
    return value


def check_choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def check_name(
    name: str, value: Any, known: tuple[str, ...], pattern: re.Pattern[str]
) -> str:
    if value in known or (isinstance(value, str) and pattern.match(value)):
        return value
    raise ValueError(
        f"{name} must be one of {', '.join(known)} or a name of 1 to 32 lower-case "
        f"letters, digits and '_' starting with a letter or digit; got {value!r}"
    )


SETTING = "vaeapp.setting"  # key of a field's Setting in its dataclass metadata


@dataclass(frozen=True)
class Setting:
    """What a config field means and allows, and how it is offered.

    ``name`` is used in error messages, ``help`` in ``--help`` and as the form's
    tooltip. Numbers must lie in ``[low, high]``; a tuple's items must (its
    length is checked by its class). A string must be one of ``choices``.
    ``flag`` is the CLI option (None: ``--`` and the field name with dashes; a
    boolean that defaults to true gets a ``--no-...`` switch). ``form`` puts the
    field in the app's Retrain form, under ``label`` (short: the sidebar is
    narrow) with ``form_default`` (None: the field's default) and ``step``.
    ``preset`` marks fields a ``--preset`` sets. ``cli`` False keeps a field
    off the command line (e.g. one set from the data). ``pattern`` lets a
    string be any value it matches as well as one of ``choices`` (which are
    then the values offered, e.g. the built-in data sets).
    """

    name: str
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    flag: str | None = None
    form: bool = False
    label: str = ""
    form_default: Any = None
    step: float | None = None
    preset: bool = False
    cli: bool = True
    pattern: re.Pattern[str] | None = None

    def check(self, value: Any, default: Any) -> Any:
        """``value`` checked (floats as float); raises ValueError."""
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ValueError(f"{self.name} must be true or false, got {value!r}")
            return value
        if self.pattern is not None:
            return check_name(self.name, value, self.choices, self.pattern)
        if self.choices:
            return check_choice(self.name, value, self.choices)
        if isinstance(default, int):
            return check_int(self.name, value, self.low, self.high)
        if isinstance(default, float):
            return check_float(self.name, value, self.low, self.high)
        return value  # tuples: checked by their class

    @property
    def limits(self) -> str:
        """The allowed values in words, e.g. ``1 to 10000`` or ``adam, sgd``."""
        if self.choices:
            return ", ".join(self.choices)
        if self.low is None:
            return ""
        return f"{_number(self.low)} to {_number(self.high)}"


def _number(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


def setting(default: Any, name: str, help: str, **options: Any) -> Any:
    """A dataclass field with ``default`` and its :class:`Setting`: one line per
    setting in the config classes below."""
    return dataclasses.field(
        default=default, metadata={SETTING: Setting(name, help, **options)}
    )


def settings(cls: type) -> list[tuple[dataclasses.Field, Setting]]:
    """The fields of a config class with their Settings, in declaration order."""
    return [(f, f.metadata[SETTING]) for f in dataclasses.fields(cls)]


def form_default(field: dataclasses.Field, spec: Setting) -> Any:
    """The value the Retrain form starts with for ``field``."""
    return field.default if spec.form_default is None else spec.form_default


def check_settings(config: Any) -> None:
    """Check every field of ``config`` against its Setting (floats made float)."""
    for field, spec in settings(type(config)):
        value = spec.check(getattr(config, field.name), field.default)
        object.__setattr__(config, field.name, value)
