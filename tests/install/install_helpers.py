"""What the install tests share: the installed environment and the blocker
that makes it a base install (conftest.py builds and installs them)."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE_FILES = ("pyproject.toml", "README.md", "LICENSE")
BLOCKED_LOG_ENV = "VAEAPP_BLOCKED_IMPORTS_LOG"  # where BLOCKER logs
# Imported at start-up by the .pth file below: the base install, emulated.
BLOCKER = '''"""Keras, TensorFlow and JAX are not installed here (tests/install)."""

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
