"""Security-relevant settings: Streamlit server config, pinned versions with
known fixes, and a UI that never imports TensorFlow or Keras."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

try:
    from packaging.version import Version as _Version

    def version(text: str):
        return _Version(text)

except ImportError:  # pragma: no cover - packaging is normally installed

    def version(text: str):
        return tuple(int(part) for part in re.findall(r"\d+", text))


@pytest.fixture(scope="module")
def server() -> dict:
    config = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text())
    return config["server"]


def test_xsrf_and_cors_protection_are_on(server: dict):
    """.streamlit/config.toml keeps XSRF protection and CORS checks enabled."""
    assert server.get("enableXsrfProtection") is True
    assert server.get("enableCORS") is True


def test_uploads_are_capped_at_the_model_zip_limit(server: dict):
    """The shipped config caps uploads at the model-zip limit the store uses
    when the page gives none."""
    from vaeapp.store.upload import UPLOAD_LIMIT_MB

    assert server.get("maxUploadSize") == UPLOAD_LIMIT_MB <= 50


def pins() -> dict[str, str]:
    found = {}
    for line in (REPO_ROOT / "requirements.txt").read_text().splitlines():
        match = re.match(r"^\s*([A-Za-z0-9_.-]+)\s*==\s*([^\s;#]+)", line)
        if match:
            found[match.group(1).lower().replace("_", "-")] = match.group(2)
    return found


@pytest.mark.parametrize(
    ("name", "minimum"), [("keras", "3.15.1"), ("streamlit", "1.54")]
)
def test_requirements_pin_versions_with_known_fixes(name: str, minimum: str):
    """requirements.txt pins keras >= 3.15.1 and streamlit >= 1.54 exactly (==)."""
    pinned = pins()
    assert name in pinned, f"{name} is not pinned with == in requirements.txt"
    assert version(pinned[name]) >= version(minimum)


def test_ui_never_imports_tensorflow_or_keras():
    """Importing every vaeapp.ui module loads neither tensorflow nor keras."""
    code = (
        "import importlib, pkgutil, sys; import vaeapp.ui, vaeapp.ui.page; "
        "[importlib.import_module('vaeapp.ui.' + m.name) "
        "for m in pkgutil.iter_modules(vaeapp.ui.__path__)]; "
        "print(any(m.split('.')[0] in ('tensorflow', 'keras') for m in sys.modules))"
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "False"


def test_app_entry_point_imports_only_the_ui():
    """app.py imports nothing but vaeapp.ui modules (so no TensorFlow either)."""
    tree = ast.parse((REPO_ROOT / "app.py").read_text())
    modules = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules.append(node.module or "")
    assert modules, "app.py imports nothing"
    assert all(m == "vaeapp.ui" or m.startswith("vaeapp.ui.") for m in modules)


def test_one_browser_message_is_capped_near_what_the_page_sends(server: dict):
    """A browser message's widget states are capped at 1 MB, room for the
    largest drawing the pad may send (as base64) and not for a flood."""
    from vaeapp.ui.components.draw_pad import MAX_DRAWING_BYTES

    assert server.get("maxWidgetStateSize") == 1
    assert (MAX_DRAWING_BYTES + 2) // 3 * 4 < 900_000


def test_the_static_folder_exists_in_a_checkout():
    """static/ is in the repository, so a fresh clone's first start serves it
    without Streamlit's 'no static folder found' warning."""
    assert (REPO_ROOT / "static").is_dir()
    tracked = subprocess.run(
        ["git", "ls-files", "static"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert tracked.returncode != 0 or "static/.gitkeep" in tracked.stdout
