"""Start and stop ``streamlit run`` on a free localhost port, for tests and benchmarks.

The browser tests (``tests/browser/conftest.py``), the page-speed benchmark and
the load test all need the same thing: a real server for a script, with its own
environment, that answers before they open a page and is stopped afterwards.
This module is that helper, written once. It lives in the package (not in
``tests/`` or ``bench/``) because both of those already import :mod:`vaeapp`
and neither is importable from the other; it imports nothing beyond the
standard library, and the app never calls it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 120.0


class ServerError(RuntimeError):
    """The server exited or did not answer in time; the message ends with its log."""


@dataclass(frozen=True)
class Server:
    """A spawned ``streamlit run``: its process, URL, log and spawn time."""

    process: subprocess.Popen
    url: str
    log_path: Path
    spawned: float  # time.perf_counter() just before the spawn

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the server's output, or a note that there is none."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return "(no server log)"


def free_port() -> int:
    """A localhost TCP port that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def spawn(
    script: str | Path = "app.py",
    *,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    options: Sequence[str] = (),
    cwd: Path = ROOT,
) -> Server:
    """Spawn ``streamlit run script`` on a free 127.0.0.1 port; do not wait.

    ``env`` is added to this process's environment (``TF_CPP_MIN_LOG_LEVEL=2``
    is set too); ``options`` are extra ``--section.option value`` arguments.
    The server reads ``.streamlit/config.toml`` from ``cwd`` (the repository).
    """
    port = free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", str(script),
        "--server.headless", "true", "--server.port", str(port),
        "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
        *options,
    ]  # fmt: skip
    full_env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **(env or {}))
    spawned = time.perf_counter()
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, cwd=cwd, env=full_env, stdout=log, stderr=subprocess.STDOUT
        )
    return Server(process, f"http://127.0.0.1:{port}", log_path, spawned)


def answers(url: str, page: bool = False) -> bool:
    """Whether ``url``'s health check (and, with ``page``, its page) says 200."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
            if reply.status != 200:
                return False
        if page:
            with urllib.request.urlopen(url, timeout=2) as reply:
                return reply.status == 200
        return True
    except (urllib.error.URLError, OSError):
        return False


def wait_ready(
    server: Server, timeout_s: float = START_TIMEOUT_S, page: bool = False
) -> None:
    """Poll until the server answers; raise :class:`ServerError` if it exits
    first or takes longer than ``timeout_s``."""
    deadline = time.perf_counter() + timeout_s
    while not answers(server.url, page):
        code = server.process.poll()
        if code is not None:
            raise ServerError(
                f"streamlit exited with code {code} before answering on "
                f"{server.url}:\n{server.log_tail()}"
            )
        if time.perf_counter() > deadline:
            raise ServerError(
                f"streamlit did not answer on {server.url} within {timeout_s:.0f} "
                f"s:\n{server.log_tail()}"
            )
        time.sleep(0.05)


def stop_process(process: subprocess.Popen, timeout_s: float = 10.0) -> None:
    """Terminate ``process``; kill it if it has not exited after ``timeout_s``."""
    process.terminate()
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout_s)


def stop(server: Server, timeout_s: float = 10.0) -> None:
    """Terminate the server; kill it if it has not exited after ``timeout_s``."""
    stop_process(server.process, timeout_s)


@contextmanager
def running(
    script: str | Path = "app.py",
    *,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    options: Sequence[str] = (),
    timeout_s: float = START_TIMEOUT_S,
    page: bool = False,
) -> Iterator[Server]:
    """:func:`spawn`, :func:`wait_ready`, yield the server, then :func:`stop` it."""
    server = spawn(script, log_path=log_path, env=env, options=options)
    try:
        wait_ready(server, timeout_s, page)
        yield server
    finally:
        stop(server)
