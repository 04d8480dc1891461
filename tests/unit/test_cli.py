"""The `vaeapp` command: its subcommands, one-line errors, and lazy imports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from vaeapp import __version__
from vaeapp.cli import COMMANDS
from vaeapp.ui import serve

REPO_ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("tensorflow", "keras", "jax")


def run_python(*args: str) -> subprocess.CompletedProcess:
    """``python ARGS`` in the repository, without TensorFlow's start-up chatter."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
        env=env,
    )


def test_version_is_the_package_version():
    """`vaeapp --version` prints vaeapp.__version__ and exits 0."""
    proc = run_python("-m", "vaeapp", "--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"vaeapp {__version__}"


def test_help_lists_every_command():
    """`vaeapp --help` names serve, train, export, evaluate and refine."""
    proc = run_python("-m", "vaeapp", "--help")
    assert proc.returncode == 0
    for name in ("serve", "train", "export", "evaluate", "refine"):
        assert f"\n  {name} " in proc.stdout
    assert set(COMMANDS) == {"serve", "train", "export", "evaluate", "refine"}


@pytest.mark.parametrize(
    ("args", "prog", "wrong"),
    [
        (("-m", "vaeapp", "train", "--epochs", "x"), "vaeapp train", "--epochs"),
        (("-m", "vaeapp.train", "--epochs", "x"), "python -m vaeapp.train", "'x'"),
        (("-m", "vaeapp", "export", "--model", "m"), "vaeapp export", "--out"),
        (("-m", "vaeapp.export", "--model", "m"), "python -m vaeapp.export", "--out"),
        (("-m", "vaeapp", "evaluate", "--samples", "y"), "vaeapp evaluate", "'y'"),
        (("-m", "vaeapp.refine", "--steps", "x"), "python -m vaeapp.refine", "'x'"),
        (("-m", "vaeapp", "serve", "--server.port", "abc"), "vaeapp serve", "'abc'"),
        (("-m", "vaeapp", "serve", "--server.nope", "1"), "vaeapp serve", "nope"),
        (("-m", "vaeapp", "bogus"), "vaeapp", "'bogus'"),
        (("-m", "vaeapp"), "vaeapp", "name a command"),
    ],
)
def test_a_wrong_argument_is_one_line(args, prog, wrong, tmp_path, monkeypatch):
    """A wrong argument exits 2 with one line on stderr naming it, no usage text."""
    monkeypatch.setenv(serve.PAGE_DIR_ENV, str(tmp_path / "page"))
    proc = run_python(*args)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"{prog}: error: ") and wrong in lines[0]
    assert lines[0].endswith(f"({prog} --help lists the options)")


@pytest.mark.parametrize("command", ["--help", "export --help", "serve --help"])
def test_commands_but_train_load_no_tensorflow(command):
    """`vaeapp --help`, `vaeapp export --help` and `vaeapp serve --help` import
    neither TensorFlow, Keras nor JAX."""
    code = (
        "import sys\n"
        "from vaeapp.cli import main\n"
        "try:\n"
        f"    main({command.split()!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}))\n"
    )
    proc = run_python("-c", code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_train_help_is_named_after_the_command():
    """`vaeapp train --help` shows `vaeapp train` as its program name."""
    proc = run_python("-m", "vaeapp", "train", "--help")
    assert proc.returncode == 0
    assert proc.stdout.startswith("usage: vaeapp train ")


def test_page_folder_holds_the_script_and_the_package_settings(tmp_path):
    """serve.prepare writes app.py, the package's Streamlit settings and static/."""
    script = serve.prepare(tmp_path / "page")
    assert script == tmp_path / "page" / "app.py"
    assert "from vaeapp.ui.start import run" in script.read_text()
    config = tmp_path / "page" / ".streamlit" / "config.toml"
    assert config.read_bytes() == serve.CONFIG_FILE.read_bytes()
    assert (tmp_path / "page" / "static").is_dir()


def test_page_folder_is_not_rewritten_when_unchanged(tmp_path):
    """A second prepare leaves identical files alone and repairs a changed one."""
    folder = tmp_path / "page"
    script = serve.prepare(folder)
    os.utime(script, (1_000_000, 1_000_000))
    serve.prepare(folder)
    assert script.stat().st_mtime == 1_000_000
    script.write_text("print('changed')\n")
    serve.prepare(folder)
    assert script.read_text() == serve.SCRIPT


def test_page_folder_comes_from_the_environment(tmp_path, monkeypatch):
    """$VAEAPP_PAGE_DIR, else $XDG_CACHE_HOME/vaeapp/page, is the page's folder."""
    monkeypatch.setenv(serve.PAGE_DIR_ENV, str(tmp_path / "a"))
    assert serve.page_dir() == tmp_path / "a"
    monkeypatch.delenv(serve.PAGE_DIR_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert serve.page_dir() == tmp_path / "cache" / "vaeapp" / "page"


def test_checkout_and_package_share_one_streamlit_config():
    """.streamlit/config.toml of the checkout is the package's own settings file."""
    checkout = REPO_ROOT / ".streamlit" / "config.toml"
    assert checkout.read_bytes() == serve.CONFIG_FILE.read_bytes()
