"""The package as a user installs it: the wheel built from the checkout, in a
fresh virtual environment, run from a folder that is not the checkout. Used by
the install tests (tests/install) and the install benchmark
(``python -m bench.install``).

The wheel is built from a copy of what the package is made of
(``pyproject.toml``, ``README.md``, ``LICENSE``, ``vaeapp/``), so the build
writes nothing into the checkout and cannot pick up ``bench/``, ``devtools/``
or ``tests/``. It is built without network (``--no-build-isolation``: the
setuptools of requirements-dev.txt) and installed with ``--no-index`` into a
virtual environment that takes its dependencies from this interpreter's
site-packages (``--system-site-packages``). With ``base=True`` that
environment stands for the base install: a ``.pth`` file makes Keras,
TensorFlow and JAX unimportable in it and logs every attempt to import them
(to ``$VAEAPP_BLOCKED_IMPORTS_LOG``), so whatever reaches for them fails, and
the log says so. Without it, the environment is the full install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_FILES = ("pyproject.toml", "README.md", "LICENSE")
MIN_SETUPTOOLS = (77, 0)
BLOCKED_LOG_ENV = "VAEAPP_BLOCKED_IMPORTS_LOG"  # where BLOCKER logs
# Imported at start-up through a .pth file (install): the base install, emulated.
BLOCKER = '''"""Keras, TensorFlow and JAX are not installed here (vaeapp tests)."""

import importlib.abc
import os
import sys

BLOCKED = ("tensorflow", "keras", "jax", "jaxlib")


class NotInstalled(importlib.abc.MetaPathFinder):
    """Refuses the training stack's modules and logs each refused name."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] not in BLOCKED:
            return None
        log = os.environ.get("VAEAPP_BLOCKED_IMPORTS_LOG")
        if log:
            with open(log, "a", encoding="utf-8") as handle:
                handle.write(name + "\\n")
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)


sys.meta_path.insert(0, NotInstalled())
'''


@dataclass(frozen=True)
class Venv:
    """An installed vaeapp: the environment's folder, and a clean working folder."""

    root: Path
    work: Path

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    @property
    def command(self) -> Path:
        return self.root / "bin" / "vaeapp"

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a user of this install: no checkout on the path."""
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
        }
        env.update(
            PATH=f"{self.root / 'bin'}{os.pathsep}{env.get('PATH', '')}",
            HOME=str(self.work / "home"),
            VAEAPP_HOME=str(self.work / "runs"),
            VAEAPP_PAGE_DIR=str(self.work / "page"),
            TF_CPP_MIN_LOG_LEVEL="2",
        )
        env.update(extra)
        return env

    def site_packages(self) -> str:
        """The environment's site-packages folder."""
        code = "import sysconfig; print(sysconfig.get_path('purelib'))"
        return self.run(self.python, "-c", code).stdout.strip()

    def run(self, *args: str | Path, timeout: float = 300, **extra: str):
        """Run ``args`` in the working folder; return the CompletedProcess."""
        return subprocess.run(
            [str(arg) for arg in args],
            cwd=self.work,
            env=self.env(**extra),
            capture_output=True,
            text=True,
            timeout=timeout,
        )


class InstallError(RuntimeError):
    """Building or installing the wheel failed; the message ends with pip's log."""


def missing_reason() -> str | None:
    """Why the wheel cannot be built here, or None when it can."""
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


def build_wheel(folder: Path) -> Path:
    """Build the checkout's wheel in ``folder`` (a copy of its sources goes in
    ``folder/source``); return the wheel's path."""
    source, dist = folder / "source", folder / "dist"
    source.mkdir(parents=True)
    for name in PACKAGE_FILES:
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "vaeapp",
        source / "vaeapp",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "--disable-pip-version-check", "-q", "-w", str(dist),
         str(source)],
        capture_output=True, text=True, timeout=600, cwd=source,
    )  # fmt: skip
    if proc.returncode != 0:
        raise InstallError(f"pip wheel failed:\n{proc.stderr[-3000:]}")
    (built,) = dist.glob("vaeapp-*.whl")
    return built


def install(wheel: Path, root: Path, work: Path, base: bool) -> Venv:
    """A fresh virtual environment in ``root`` with ``wheel`` installed, its
    working folder ``work``; with ``base``, the training stack blocked."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "home").mkdir(exist_ok=True)
    made = subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip",
         str(root)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if made.returncode != 0:
        raise InstallError(
            "python -m venv failed (apt-get install python3-venv): "
            + made.stderr.strip()[-300:]
        )
    venv = Venv(root, work)
    proc = venv.run(
        venv.python, "-m", "pip", "install", "--no-index", "-q",
        "--disable-pip-version-check", wheel,
    )  # fmt: skip
    if proc.returncode != 0:
        raise InstallError(f"pip install failed:\n{proc.stderr[-3000:]}")
    if base:
        site = Path(venv.site_packages())
        (site / "_vaeapp_base_install.py").write_text(BLOCKER)
        (site / "_vaeapp_base_install.pth").write_text("import _vaeapp_base_install\n")
    return venv
