"""Fixtures for the install tests: the wheel, built once per module, installed
in a fresh virtual environment outside the checkout that stands for the base
install (no Keras, TensorFlow or JAX importable): :mod:`devtools.installed`."""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools import installed
from devtools.installed import Venv


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of the checkout, built once per module from a copy of its files."""
    reason = installed.missing_reason()
    if reason:
        pytest.skip(reason)
    return installed.build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """A fresh virtual environment with the wheel installed, the training stack
    blocked, and a working folder that is not the checkout."""
    root = tmp_path_factory.mktemp("venv")
    try:
        return installed.install(wheel, root, root.with_name(root.name + "-work"), True)
    except installed.InstallError as error:
        if "venv failed" in str(error):
            pytest.skip(str(error))
        raise
