"""What pyproject.toml declares: version, dependencies, licence and package data."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import vaeapp

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
HEAVY = {"tensorflow", "keras", "jax", "jaxlib"}


def pins(path: Path) -> dict[str, str]:
    """``name: version`` of every ``name==version`` line of a requirements file."""
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)(\[[^\]]*\])?==([^\s#;]+)", line)
        if match:
            found[match.group(1).lower()] = match.group(3)
    return found


PINS = pins(REPO_ROOT / "requirements.txt") | pins(REPO_ROOT / "requirements-dev.txt")


def requirements(group: str | None) -> list[Requirement]:
    """The base dependencies (None) or an extra's, self-references left out."""
    project = PROJECT["project"]
    lines = (
        project["dependencies"]
        if group is None
        else (project["optional-dependencies"][group])
    )
    return [Requirement(line) for line in lines if not line.startswith("vaeapp")]


def test_version_has_one_source():
    """pyproject.toml reads the version from vaeapp.__version__, a release number."""
    assert "version" in PROJECT["project"]["dynamic"]
    attr = PROJECT["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "vaeapp.__version__"
    assert re.fullmatch(r"\d+\.\d+\.\d+", vaeapp.__version__)


def test_changelog_describes_this_version():
    """CHANGELOG.md has a section for the package's version."""
    text = (REPO_ROOT / "CHANGELOG.md").read_text()
    assert re.search(rf"^## \[?{re.escape(vaeapp.__version__)}\]?", text, re.M)


def test_licence_is_named_and_shipped():
    """The licence named in pyproject.toml is the LICENSE file's."""
    assert PROJECT["project"]["license"] == "Apache-2.0"
    assert "LICENSE" in PROJECT["project"]["license-files"]
    assert "Apache License" in (REPO_ROOT / "LICENSE").read_text()[:200]


def test_base_install_has_no_tensorflow_keras_or_jax():
    """The base dependencies leave out TensorFlow, Keras and JAX."""
    names = {req.name.lower() for req in requirements(None)}
    assert not names & HEAVY
    assert {"streamlit", "numpy", "scipy", "plotly", "h5py", "pillow"} <= names


@pytest.mark.parametrize("group", [None, "train", "jax", "dev"])
def test_requirements_pins_satisfy_pyproject(group):
    """Every dependency of pyproject.toml is pinned in requirements*.txt, and the
    pin satisfies pyproject's range."""
    for req in requirements(group):
        pinned = PINS.get(req.name.lower())
        assert pinned is not None, f"{req.name} is not pinned in requirements*.txt"
        assert req.specifier.contains(pinned, prereleases=True), (req, pinned)


def test_extras_add_training_and_jax():
    """vaeapp[train] adds Keras on TensorFlow (TensorBoard for --tensorboard,
    umap-learn for the map plane written at publish);
    vaeapp[jax] Keras with JAX."""
    train = {req.name for req in requirements("train")}
    jax = {req.name for req in requirements("jax")}
    assert train == {"keras", "tensorflow", "tensorboard", "umap-learn"} and jax == {
        "keras",
        "jax",
    }


def test_package_data_covers_every_shipped_file():
    """Every non-Python file under pretrained/, testsets/, web/ and ui/ matches a
    package-data pattern, so the wheel ships it."""
    patterns = PROJECT["tool"]["setuptools"]["package-data"]["vaeapp"]
    package = REPO_ROOT / "vaeapp"
    shipped = [
        path.relative_to(package).as_posix()
        for folder in ("pretrained", "testsets", "web", "ui")
        for path in (package / folder).rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc")
    ]
    assert any(name.startswith("pretrained/") for name in shipped)
    missing = [n for n in shipped if not any(fnmatch.fnmatch(n, p) for p in patterns)]
    assert missing == []


def test_only_the_package_is_installed():
    """setuptools finds vaeapp and its subpackages only: not bench, deploy,
    devtools or tests."""
    assert PROJECT["tool"]["setuptools"]["packages"]["find"]["include"] == [
        "vaeapp",
        "vaeapp.*",
    ]


def test_the_command_is_the_cli_main():
    """The `vaeapp` console script runs vaeapp.cli:main."""
    assert PROJECT["project"]["scripts"] == {"vaeapp": "vaeapp.cli:main"}
