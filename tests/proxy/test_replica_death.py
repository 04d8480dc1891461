"""What ``python deploy/replicas.py`` does when one of its processes dies.

The back-off and the restart budget are checked on
:class:`replicas.Supervisor` with stand-in processes (a replica that exits at
once, a ``sleep`` for nginx) and a clock of the test's own. The other
tests start the command as a subprocess (its own process group, stdout and
stderr in files, a fresh ``VAEAPP_HOME``), waits until it serves through nginx,
then kills a replica or nginx, or sends the command SIGTERM. Processes are
found through ``/proc``: the command's children and their command lines.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from proxy_helpers import REPO, nginx_missing_reason

from deploy import replicas
from devtools import server as devserver
from vaeapp.store.format import TEMP_PREFIX

T = TypeVar("T")
START_TIMEOUT_S = 180.0  # two Streamlit servers on a shared 2-core machine
RESTART_TIMEOUT_S = 90.0  # one Streamlit server started again, same machine
EXIT_TIMEOUT_S = 40.0  # stopping the replicas may take devserver's 10 s each
# A browser's replica comes back into nginx's rotation after fail_timeout
# (10 s by default) once it answers again.
REJOIN_TIMEOUT_S = 60.0
REQUESTS_AFTER_KILL = 30  # cookieless: each hashes to either replica
REQUEST_GAP_S = 0.1
SERVING = re.compile(r"serving on (http://127\.0\.0\.1:\d+)/")
REPLICA_URL = re.compile(r"^replica \d+: http://127\.0\.0\.1:(\d+)", re.M)

needs_nginx = pytest.mark.skipif(
    nginx_missing_reason() is not None or not Path("/proc/self/stat").exists(),
    reason=nginx_missing_reason() or "needs Linux /proc to find the processes",
)


def wait_for(find: Callable[[], T | None], timeout_s: float, what: str) -> T:
    """Poll ``find`` every 0.2 s until it returns something; fail after
    ``timeout_s`` saying ``what`` was awaited."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = find()
        if found is not None and found is not False:
            return found
        time.sleep(0.2)
    pytest.fail(f"not within {timeout_s:.0f} s: {what}")


def children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (from /proc/*/stat)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError):
            # The command name, in parentheses, may hold spaces: split after it.
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def command_line(pid: int) -> list[str]:
    """``pid``'s arguments, or [] once it is gone."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return raw.decode(errors="replace").split("\0")


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not count)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def status_through(url: str) -> int | str:
    """GET ``url``/_stcore/health without a cookie: the HTTP status, or the
    error if no reply came."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as reply:
            return reply.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError) as error:
        return repr(error)


def upstream_through(url: str) -> str:
    """The replica that answered a cookieless health check through nginx."""
    with suppress(urllib.error.URLError, OSError):
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as reply:
            return reply.headers.get(replicas.UPSTREAM_HEADER, "")
    return ""


@dataclass
class Command:
    """The running command: its process, its output files, nginx's URL and
    the replicas' ports."""

    process: subprocess.Popen
    out: Path
    err: Path
    url: str = ""
    ports: tuple[int, ...] = ()

    def stdout(self) -> str:
        return self.out.read_text(errors="replace")

    def stderr(self) -> str:
        return self.err.read_text(errors="replace")

    def replica_pid(self, port: int) -> int | None:
        """The live child running Streamlit on ``port``."""
        for pid in children(self.process.pid):
            args = command_line(pid)
            if "streamlit" in args and str(port) in args and alive(pid):
                return pid
        return None

    def nginx_pid(self) -> int | None:
        """The nginx master among the command's children."""
        for pid in children(self.process.pid):
            with suppress(OSError):
                if Path(f"/proc/{pid}/comm").read_text().strip() == "nginx":
                    return pid
        return None

    def serving(self) -> bool:
        """Whether the command has said it serves (failing if it exited)."""
        if self.process.poll() is not None:
            pytest.fail(f"the command exited early:\n{self.stderr()[-3000:]}")
        found = SERVING.search(self.stdout())
        if found:
            self.url = found.group(1)
            self.ports = tuple(int(p) for p in REPLICA_URL.findall(self.stdout()))
        return bool(found)


@contextmanager
def started(tmp_path: Path, count: int) -> Iterator[Command]:
    """``python deploy/replicas.py --replicas count`` on a free port, serving;
    stopped (its whole process group killed if it lingers) afterwards."""
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    argv = [
        sys.executable, "deploy/replicas.py", "--replicas", str(count),
        "--port", str(devserver.free_port()), "--home", str(tmp_path / "models"),
    ]  # fmt: skip
    env = dict(os.environ, PYTHONUNBUFFERED="1")  # its output as it comes
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            argv, cwd=REPO, env=env, stdout=stdout, stderr=stderr,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    command = Command(process, out, err)
    try:
        wait_for(command.serving, START_TIMEOUT_S, "the command serves")
        yield command
    finally:
        if process.poll() is None:
            process.terminate()
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=EXIT_TIMEOUT_S)
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # its group: it started it
        process.wait(timeout=10)


def test_a_replica_that_keeps_dying_is_restarted_with_back_off_then_given_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A replica dying at once is restarted MAX_RESTARTS times, each only once
    its back-off (doubling from BACKOFF_FIRST_S) has passed, one stderr line
    each, then the supervisor gives up naming it and the budget."""
    dies = [sys.executable, "-c", "raise SystemExit(3)"]
    nginx = subprocess.Popen(["sleep", "60"])
    log = tmp_path / "replica.log"
    server = devserver.Server(subprocess.Popen(dies), "http://127.0.0.1:1", log, 0)
    proxy = replicas.Proxy(nginx, "http://127.0.0.1:2", tmp_path)
    now = [1000.0]
    supervisor = replicas.Supervisor(
        replicas.Cluster(proxy, [server]), clock=lambda: now[0]
    )
    waits = [replicas.BACKOFF_FIRST_S * 2**k for k in range(replicas.MAX_RESTARTS)]
    try:
        for wait in waits:
            dead = supervisor.cluster.servers[0]
            dead.process.wait(timeout=30)
            supervisor.check()  # found dead: its restart is due after `wait`
            now[0] += wait * 0.9
            supervisor.check()
            assert supervisor.cluster.servers[0] is dead, "restarted too early"
            now[0] += wait * 0.1
            supervisor.check()
            assert supervisor.cluster.servers[0] is not dead, "not restarted"
        supervisor.cluster.servers[0].process.wait(timeout=30)
        with pytest.raises(replicas.GroupFailed, match="exit code 3; not restarted"):
            supervisor.check()
    finally:
        nginx.kill()
        nginx.wait(timeout=10)
    assert sum(waits) < replicas.RESTART_WINDOW_S  # given up within the window
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == replicas.MAX_RESTARTS
    assert all("port 1," in line and "exit code 3" in line for line in lines)
    for line, wait in zip(lines, waits, strict=True):
        assert f"after {wait:g} s" in line, line


def test_the_back_off_doubles_up_to_its_cap() -> None:
    """backoff_s doubles from BACKOFF_FIRST_S with each recent restart and
    never exceeds BACKOFF_MAX_S."""
    steps = [replicas.backoff_s(k) for k in range(12)]
    assert steps[:3] == [replicas.BACKOFF_FIRST_S * f for f in (1, 2, 4)]
    assert steps == sorted(steps) and max(steps) == replicas.BACKOFF_MAX_S


@needs_nginx
def test_a_killed_replica_is_restarted_on_its_port_while_nginx_serves(
    tmp_path: Path,
) -> None:
    """After kill -9 of a replica, nginx keeps answering 200, stderr names the
    replica, a new process serves its port within seconds and rejoins nginx's
    rotation, and the model folder it was writing when killed (a temporary
    folder named by its pid, as vaeapp.store.writing names them) is gone
    rather than left half-written."""
    with started(tmp_path, 2) as command:
        port = command.ports[1]
        old = wait_for(lambda: command.replica_pid(port), 10, "replica's pid")
        home = tmp_path / "models"
        unfinished = home / f"{TEMP_PREFIX}{old}-abc123"
        unfinished.mkdir(parents=True)
        (unfinished / "model.weights.h5").write_bytes(b"half a weights file")
        killed = time.monotonic()
        os.kill(old, signal.SIGKILL)
        statuses = []
        for _ in range(REQUESTS_AFTER_KILL):
            statuses.append(status_through(command.url))
            time.sleep(REQUEST_GAP_S)
        assert statuses == [200] * REQUESTS_AFTER_KILL, command.stderr()
        new = wait_for(
            lambda: (pid := command.replica_pid(port)) != old and pid,
            RESTART_TIMEOUT_S,
            f"a new replica on port {port}:\n{command.stderr()}",
        )
        wait_for(
            lambda: devserver.answers(f"http://127.0.0.1:{port}"),
            RESTART_TIMEOUT_S,
            f"the new replica (pid {new}) answers on port {port}",
        )
        back_s = time.monotonic() - killed
        line = command.stderr().strip()
        assert len(line.splitlines()) == 1, line
        for named in (f"port {port}", f"pid {old}", "SIGKILL", f"pid {new}"):
            assert named in line
        assert f"after {replicas.BACKOFF_FIRST_S:g} s" in line
        assert "removed 1 unfinished write" in line
        assert not [p for p in home.iterdir() if p.name.startswith(TEMP_PREFIX)]
        print(f"replica on port {port} answered again {back_s:.1f} s after SIGKILL")
        wait_for(
            lambda: upstream_through(command.url) == f"127.0.0.1:{port}",
            REJOIN_TIMEOUT_S,
            "nginx sends requests to the restarted replica",
        )
        assert command.process.poll() is None


@needs_nginx
def test_when_nginx_dies_the_command_stops_everything_and_exits_non_zero(
    tmp_path: Path,
) -> None:
    """After kill -9 of nginx, the command stops its replicas, says why on
    stderr and exits with a non-zero code, so its supervisor restarts it."""
    with started(tmp_path, 1) as command:
        replica = command.replica_pid(command.ports[0])
        nginx = wait_for(command.nginx_pid, 10, "nginx's pid")
        os.kill(nginx, signal.SIGKILL)
        try:
            code = command.process.wait(timeout=EXIT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {EXIT_TIMEOUT_S:.0f} s after nginx died")
        assert code != 0
        assert "nginx" in command.stderr() and f"pid {nginx}" in command.stderr()
        assert replica is not None and not alive(replica)
        assert status_through(command.url) != 200  # no orphaned nginx worker


@needs_nginx
def test_sigterm_stops_everything_and_exits_zero(tmp_path: Path) -> None:
    """SIGTERM stops the replicas and nginx and the command exits with 0."""
    with started(tmp_path, 1) as command:
        replica = command.replica_pid(command.ports[0])
        command.process.terminate()
        code = command.process.wait(timeout=EXIT_TIMEOUT_S)
        assert code == 0, command.stderr()
        assert replica is not None and not alive(replica)
        assert status_through(command.url) != 200
