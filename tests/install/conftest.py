"""Fixtures for the install tests: the wheel, built once, installed in a fresh
virtual environment outside the checkout.

The wheel is built from a copy of what the package is made of
(``pyproject.toml``, ``README.md``, ``LICENSE``, ``vaeapp/``), so the build
writes nothing into the checkout and cannot pick up ``bench/``, ``devtools/``
or ``tests/``. It is built without network (``--no-build-isolation``: the
setuptools of requirements-dev.txt) and installed with ``--no-index`` into a
virtual environment that sees this interpreter's site-packages for its
dependencies (``--system-site-packages``; no network in tests). That
environment then stands for the base install: a ``.pth`` file makes Keras,
TensorFlow and JAX unimportable in it and logs every attempt to import them,
so a page or command that reaches for them fails, and the log says so.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from install_helpers import BLOCKER, PACKAGE_FILES, REPO, Venv

MIN_SETUPTOOLS = (77, 0)


def _setuptools_reason() -> str | None:
    try:
        import setuptools
    except ImportError:
        return "setuptools is not installed (pip install -r requirements-dev.txt)"
    version = tuple(int(part) for part in setuptools.__version__.split(".")[:2])
    if version < MIN_SETUPTOOLS:
        return (
            f"setuptools {setuptools.__version__} cannot build pyproject.toml's "
            "licence field; pip install -r requirements-dev.txt"
        )
    return None


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of the checkout, built once per module from a copy of its files."""
    reason = _setuptools_reason()
    if reason:
        pytest.skip(reason)
    source = tmp_path_factory.mktemp("source")
    for name in PACKAGE_FILES:
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(
        REPO / "vaeapp",
        source / "vaeapp",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    dist = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "-q", "-w", str(dist), str(source)],
        capture_output=True, text=True, timeout=600, cwd=source,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    (built,) = dist.glob("vaeapp-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venv]:
    """A fresh virtual environment with the wheel installed, the training stack
    blocked, and a working folder that is not the checkout."""
    root = tmp_path_factory.mktemp("venv")
    work = tmp_path_factory.mktemp("work")
    (work / "home").mkdir()
    made = subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip",
         str(root)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if made.returncode != 0:
        pytest.skip(f"python -m venv failed (apt-get install python3-venv): "
                    f"{made.stderr.strip()[-300:]}")  # fmt: skip
    installed = Venv(root, work)
    proc = installed.run(
        installed.python, "-m", "pip", "install", "--no-index", "-q",
        "--disable-pip-version-check", wheel,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    site = installed.run(
        installed.python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"
    ).stdout.strip()
    Path(site, "_vaeapp_base_install.py").write_text(BLOCKER)
    Path(site, "_vaeapp_base_install.pth").write_text("import _vaeapp_base_install\n")
    yield installed
