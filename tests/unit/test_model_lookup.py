"""One lookup for ``--model`` in every command (and the page's ``?model=``):
shipped names, names of folders in the trained-models folder, or a path."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from vaeapp import evaluate
from vaeapp import refine as refine_cli
from vaeapp.export import command as export
from vaeapp.store.format import HOME_ENV, PRETRAINED_DIR
from vaeapp.store.listing import find_model, model_named


def _trained(home: Path, name: str, shipped: str = "mnist-tutorial") -> Path:
    """A trained-like model: a shipped folder copied into ``home`` as ``name``."""
    home.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copytree(PRETRAINED_DIR / shipped, home / name))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated trained-models folder named by VAEAPP_HOME."""
    folder = tmp_path / "models"
    monkeypatch.setenv(HOME_ENV, str(folder))
    return folder


def test_a_trained_name_is_found_in_vaeapp_home(home: Path) -> None:
    """A folder's name in $VAEAPP_HOME finds that folder."""
    folder = _trained(home, "my-model")
    assert find_model("my-model") == folder.resolve()


def test_a_trained_name_is_found_in_runs_without_vaeapp_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without VAEAPP_HOME a name finds the folder of that name in ./runs."""
    monkeypatch.delenv(HOME_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    folder = _trained(tmp_path / "runs", "my-model")
    assert find_model("my-model") == folder.resolve()


def test_shipped_names_are_protected(home: Path) -> None:
    """A trained folder named like a shipped model does not take its name: the
    name means the shipped one; the trained one is reached by its path."""
    copy = _trained(home, "mnist-deep", shipped="mnist-tutorial")
    assert find_model("mnist-deep") == PRETRAINED_DIR / "mnist-deep"
    assert model_named("mnist-deep") == PRETRAINED_DIR / "mnist-deep"
    assert find_model(str(copy)) == copy


def test_an_unknown_name_says_where_it_was_looked_for(home: Path) -> None:
    """The error names the shipped models, the trained-models folder and the path."""
    with pytest.raises(ValueError) as raised:
        find_model("no-such-model")
    message = str(raised.value)
    assert "no model 'no-such-model'" in message
    assert "mnist-deep" in message and str(home.resolve()) in message
    assert "path" in message and "\n" not in message


@pytest.mark.parametrize("text", ["../models/x", "/etc", "a/b", ".hidden", ""])
def test_names_only_never_opens_a_path(home: Path, text: str) -> None:
    """The page's lookup (names only) refuses paths and names that are not
    folder names, even where the path exists."""
    _trained(home, "x")
    with pytest.raises(ValueError):
        find_model(text, names_only=True)


def test_names_only_finds_shipped_and_trained_names(home: Path) -> None:
    """The page's lookup finds what the sidebar lists by name, and its error
    names no server folder."""
    folder = _trained(home, "mine")
    assert find_model("mine", names_only=True) == folder.resolve()
    assert find_model("mnist-wide", names_only=True) == PRETRAINED_DIR / "mnist-wide"
    with pytest.raises(ValueError) as raised:
        find_model("absent", names_only=True)
    assert str(home) not in str(raised.value)


def test_export_takes_a_trained_name(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """python -m vaeapp.export --model NAME writes the file of a trained model."""
    _trained(home, "my-tutorial")
    out = tmp_path / "x.html"
    assert export.main(["--model", "my-tutorial", "--out", str(out)]) == 0
    assert out.stat().st_size > 1_000_000 and "x.html" in capsys.readouterr().out


def test_evaluate_takes_a_trained_name(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """python -m vaeapp.evaluate --model NAME evaluates a trained model."""
    _trained(home, "my-tutorial")
    argv = ["--model", "my-tutorial", "--samples", "2", "--images", "20"]
    assert evaluate.main(argv) == 0
    assert capsys.readouterr().out.startswith("my-tutorial: test -ELBO 149.03")


def test_refine_takes_a_trained_name(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """python -m vaeapp.refine --model NAME measures a trained model's
    refinement (the shapes set is generated, so no data file is needed)."""
    _trained(home, "my-shapes", shipped="shapes-small")
    assert refine_cli.main(["--model", "my-shapes", "--steps", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("my-shapes: 2 steps") and "validation (5,000 images)" in out


@pytest.mark.parametrize("command", [export.main, evaluate.main, refine_cli.main])
def test_every_command_names_the_places_searched(
    home: Path, tmp_path: Path, command, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each command refuses an unknown name with exit 2 and the places searched."""
    extra = ["--out", str(tmp_path / "x.html")] if command is export.main else []
    with pytest.raises(SystemExit) as stopped:
        command(["--model", "no-such-model", *extra])
    err = capsys.readouterr().err
    assert stopped.value.code == 2
    assert "no model 'no-such-model'" in err and "trained-models folder" in err
