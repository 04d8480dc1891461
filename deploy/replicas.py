"""Start N app replicas sharing one models folder behind nginx with sticky sessions.

    python deploy/replicas.py --replicas 2 --port 8080 [--home runs]
    python deploy/replicas.py --replicas 4 --print-config > /srv/nginx/nginx.conf

Each replica is ``streamlit run app.py`` on its own free 127.0.0.1 port
(:mod:`devtools.server`), all with the same ``VAEAPP_HOME`` (so one training
run at a time across them, and every model seen by all) and the same
``server.cookieSecret`` (``STREAMLIT_SERVER_COOKIE_SECRET``, taken from the
environment or made up once for the group). nginx runs unprivileged in a
temporary prefix with a copy of ``deploy/nginx.conf`` whose ``listen`` port and
upstream ``server`` lines name those ports. The tests and ``bench/load_test.py
--replicas N`` use :func:`running`.

The command runs until Ctrl-C or SIGTERM (then it stops everything and exits
0). A replica that dies is started again on its port, after a back-off that
doubles with each restart in the last ``RESTART_WINDOW_S`` (``BACKOFF_FIRST_S``
up to ``BACKOFF_MAX_S``), while nginx sends its browsers to the others; the
temporary folders it may have left in the models folder (a model being
written when it died) are removed first. If nginx dies, or replicas die more
often than ``MAX_RESTARTS`` in ``RESTART_WINDOW_S``, it stops everything and
exits 1 for its own supervisor (systemd, Kubernetes) to restart the group.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from devtools import server as devserver  # noqa: E402
from vaeapp.store.writing import remove_stale_temps  # noqa: E402

CONFIG = ROOT / "deploy" / "nginx.conf"
NGINX_CANDIDATES = ("nginx", "/usr/sbin/nginx")
ROUTE_COOKIE = "vaeapp_replica"  # the affinity cookie nginx sets
UPSTREAM_HEADER = "X-Upstream"  # names the replica that answered
COOKIE_SECRET_ENV = "STREAMLIT_SERVER_COOKIE_SECRET"
_UPSTREAM = re.compile(r"(upstream\s+\w+\s*\{)(.*?)(\})", re.S)
_SERVER_LINE = re.compile(r"^(\s*)server\s+[^;]+;\n", re.M)
_LISTEN = re.compile(r"^(\s*)listen\s+[^;]+;", re.M)
# A replica that dies is restarted; more than MAX_RESTARTS within
# RESTART_WINDOW_S (all replicas together) means something is wrong for every
# replica (a broken checkout, memory exhausted) that restarting again will not
# mend: the command then exits non-zero and its supervisor, which can back off
# and alert, takes over. 5 is systemd's default StartLimitBurst; the window is
# longer than its 10 s because a replica takes about a second to start.
MAX_RESTARTS = 5
RESTART_WINDOW_S = 60.0
# The wait before a restart: BACKOFF_FIRST_S after a replica that had not died
# within the window, doubled for each restart in it (0.5, 1, 2, 4, 8 s: a
# replica that dies at once spends the budget in about 16 s, inside the
# window), never more than BACKOFF_MAX_S.
BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0
POLL_S = 0.5  # how often the command looks at its processes
# compose.yaml: the page's service, its port in each replica's container,
# nginx's port in its own, and Docker's DNS server inside a compose network.
COMPOSE_CONFIG = ROOT / "deploy" / "compose-nginx.conf"
COMPOSE_SERVICE = "app"
COMPOSE_PORT = 8501
COMPOSE_LISTEN = 8080
DOCKER_DNS = "127.0.0.11"
COMPOSE_HEADER = """\
# Written by `python deploy/replicas.py --print-compose-config`: deploy/nginx.conf
# for compose.yaml's proxy service (nginx >= 1.27.3, for `resolve` in an
# upstream). Edit deploy/nginx.conf, then write this file again.
"""


def nginx_binary() -> str | None:
    """The nginx executable (Debian puts it in /usr/sbin, often not on PATH)."""
    for name in NGINX_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def render_config(
    ports: Sequence[int], listen: int, text: str | None = None, host: str = "127.0.0.1"
) -> str:
    """``deploy/nginx.conf`` listening on ``host:listen`` with one upstream
    ``server`` line per replica port in every upstream block."""
    text = CONFIG.read_text() if text is None else text
    if not ports:
        raise ValueError("at least one replica port is needed")

    def servers(block: re.Match) -> str:
        body = block.group(2)
        first = _SERVER_LINE.search(body)
        if first is None:
            raise ValueError("an upstream block without server lines")
        lines = "".join(f"{first.group(1)}server {host}:{p};\n" for p in ports)
        body = _SERVER_LINE.sub("", body)
        head, tail = body[: first.start()], body[first.start() :]
        return block.group(1) + head + lines + tail + block.group(3)

    text, blocks = _UPSTREAM.subn(servers, text)
    text, listens = _LISTEN.subn(rf"\1listen {host}:{listen};", text)
    if not blocks or listens != 1:
        raise ValueError("nginx.conf: expected upstream blocks and one listen line")
    return text


def render_compose_config(
    text: str | None = None, service: str = COMPOSE_SERVICE, port: int = COMPOSE_PORT
) -> str:
    """``deploy/nginx.conf`` for compose.yaml: listening on ``COMPOSE_LISTEN``
    in its container, each upstream naming ``service:port`` once, re-resolved
    through Docker's DNS (every replica of the service is an address of that
    name, and a restarted one may come back on another), which needs the
    upstream in shared memory (``zone``); sticky cookie, websocket and body
    limits as in the file. ``compose-nginx.conf`` holds this; a test keeps them
    equal."""
    text = CONFIG.read_text() if text is None else text
    text = render_config([port], COMPOSE_LISTEN, text, host=service)
    text = text.replace(
        f"listen {service}:{COMPOSE_LISTEN};", f"listen {COMPOSE_LISTEN};"
    )
    text = text.replace(
        f"server {service}:{port};", f"server {service}:{port} resolve;"
    )
    text, zones = re.subn(
        r"(upstream\s+(\w+)\s*\{\n)", r"\1        zone \2 64k;\n", text
    )
    text, resolvers = re.subn(
        r"(\nhttp\s*\{\n)", rf"\1    resolver {DOCKER_DNS} valid=5s ipv6=off;\n", text
    )
    if not zones or resolvers != 1:
        raise ValueError("nginx.conf: expected upstream blocks and one http block")
    return COMPOSE_HEADER + text


@dataclass(frozen=True)
class Proxy:
    """A running nginx: its process, URL and prefix folder (logs, config)."""

    process: subprocess.Popen
    url: str
    prefix: Path

    @property
    def access_log(self) -> Path:
        return self.prefix / "access.log"

    def log_tail(self, chars: int = 3000) -> str:
        parts = []
        for name in ("nginx.out", "error.log"):
            try:
                parts.append((self.prefix / name).read_text(errors="replace"))
            except OSError:
                continue
        return "\n".join(parts)[-chars:] or "(no nginx log)"


def spawn_nginx(ports: Sequence[int], prefix: Path, listen: int | None = None) -> Proxy:
    """Start nginx in the foreground in ``prefix`` (which must not be in a
    folder the workers cannot enter: when started as root they run as nobody),
    proxying to ``ports``; do not wait."""
    binary = nginx_binary()
    if binary is None:
        raise devserver.ServerError("nginx not found (apt-get install nginx)")
    listen = devserver.free_port() if listen is None else listen
    prefix.mkdir(parents=True, exist_ok=True)
    prefix.chmod(0o755)
    conf = prefix / "nginx.conf"
    conf.write_text(render_config(ports, listen))
    command = [binary, "-p", str(prefix), "-c", str(conf), "-e", "stderr"]
    with (prefix / "nginx.out").open("ab") as out:
        # Its own process group, so that stop_nginx can reach its workers: a
        # master killed with SIGKILL leaves them running, holding the port.
        process = subprocess.Popen(
            [*command, "-g", "daemon off;"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            process_group=0,
        )
    return Proxy(process, f"http://127.0.0.1:{listen}", prefix)


def wait_proxy(proxy: Proxy, timeout_s: float = 30.0) -> None:
    """Poll until the replicas answer through nginx; raise ServerError if nginx
    exits first or it takes longer than ``timeout_s``."""
    deadline = time.perf_counter() + timeout_s
    while not devserver.answers(proxy.url):
        if proxy.process.poll() is not None:
            raise devserver.ServerError(
                f"nginx exited with code {proxy.process.returncode}:\n"
                f"{proxy.log_tail()}"
            )
        if time.perf_counter() > deadline:
            raise devserver.ServerError(
                f"no answer through nginx on {proxy.url} within {timeout_s:.0f} s"
                f":\n{proxy.log_tail()}"
            )
        time.sleep(0.05)


def stop_nginx(proxy: Proxy, timeout_s: float = 10.0) -> None:
    """Stop nginx (SIGTERM: fast shutdown); kill it if it lingers, and kill
    the workers a master that died without stopping them left behind."""
    devserver.stop_process(proxy.process, timeout_s)
    with suppress(ProcessLookupError):  # the usual case: no one left
        os.killpg(proxy.process.pid, signal.SIGKILL)


@dataclass(frozen=True)
class Cluster:
    """N replicas behind one nginx: ``url`` is the proxy's. ``servers`` is a
    list because :class:`Supervisor` replaces a replica it restarts; ``env``
    is what every replica runs with (added to this process's environment)."""

    proxy: Proxy
    servers: list[devserver.Server]
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.proxy.url

    def upstream(self, server: devserver.Server) -> str:
        """How nginx names ``server`` in ``X-Upstream`` and its access log."""
        return server.url.removeprefix("http://")


def stop_servers(servers: Sequence[devserver.Server]) -> None:
    """Stop every replica, last started first (as an ExitStack would)."""
    for server in reversed(servers):
        devserver.stop(server)


def replica_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """``env`` plus what every replica must share: ``VAEAPP_HOME`` (made
    absolute; default ./runs) and one cookie secret."""
    full = dict(env or {})
    home = full.get("VAEAPP_HOME") or os.environ.get("VAEAPP_HOME") or "runs"
    full["VAEAPP_HOME"] = str(Path(home).resolve())
    full.setdefault(
        COOKIE_SECRET_ENV, os.environ.get(COOKIE_SECRET_ENV) or secrets.token_hex(32)
    )
    return full


@contextmanager
def running(
    replicas: int = 2,
    *,
    log_dir: Path,
    env: Mapping[str, str] | None = None,
    options: Sequence[str] = (),
    listen: int | None = None,
    timeout_s: float = devserver.START_TIMEOUT_S,
) -> Iterator[Cluster]:
    """Start ``replicas`` app servers (logs ``replica-K.log`` in ``log_dir``)
    and nginx in front of them; yield the cluster; stop everything."""
    if replicas < 1:
        raise ValueError("replicas must be at least 1")
    env = replica_env(env)
    log_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        servers: list[devserver.Server] = []
        # Stops the replicas the list holds at the end, restarted ones included.
        stack.callback(stop_servers, servers)
        for k in range(replicas):
            server = devserver.spawn(
                "app.py", log_path=log_dir / f"replica-{k}.log", env=env,
                options=options,
            )  # fmt: skip
            servers.append(server)
        for server in servers:
            devserver.wait_ready(server, timeout_s)
        # Not in log_dir: that may sit in a folder nginx's workers cannot enter.
        prefix = Path(tempfile.mkdtemp(prefix="vaeapp-nginx-"))
        stack.callback(shutil.rmtree, prefix, ignore_errors=True)
        ports = [int(s.url.rsplit(":", 1)[1]) for s in servers]
        proxy = spawn_nginx(ports, prefix, listen)
        stack.callback(stop_nginx, proxy)
        wait_proxy(proxy)
        cluster = Cluster(proxy, servers, env)
        try:
            yield cluster
        finally:
            # Keep nginx's logs next to the replicas' before the prefix goes.
            for name in ("access.log", "error.log"):
                source = prefix / name
                if source.exists():
                    shutil.copy(source, log_dir / f"nginx-{name}")


def port_of(server: devserver.Server) -> int:
    """The port ``server`` listens on (nginx's upstream names it)."""
    return int(server.url.rsplit(":", 1)[1])


def describe_exit(code: int) -> str:
    """A Popen return code in words: a negative one is the killing signal."""
    if code >= 0:
        return f"exit code {code}"
    try:
        return f"killed by {signal.Signals(-code).name}"
    except ValueError:
        return f"killed by signal {-code}"


def respawn(server: devserver.Server, env: Mapping[str, str]) -> devserver.Server:
    """Run ``server``'s command again, so on the same port, which nginx's
    upstream names; append to its log; do not wait for it to answer."""
    # devserver.spawn always picks a new port; this repeats its environment.
    full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **env}
    spawned = time.perf_counter()
    with server.log_path.open("ab") as log:
        process = subprocess.Popen(
            server.process.args, cwd=devserver.ROOT, env=full_env, stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    return replace(server, process=process, spawned=spawned)


class GroupFailed(RuntimeError):
    """nginx died, or replicas died too often: the group cannot go on."""


def backoff_s(recent_restarts: int) -> float:
    """The wait before a restart, after ``recent_restarts`` restarts within
    the window: BACKOFF_FIRST_S doubled for each, at most BACKOFF_MAX_S."""
    return min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2.0**recent_restarts)


@dataclass
class Supervisor:
    """Watches a :class:`Cluster`: restarts replicas that die, each after its
    back-off and within the restart budget, and gives up when nginx dies.
    ``clock`` gives monotonic seconds (a test passes its own)."""

    cluster: Cluster
    restarts: deque[float] = field(default_factory=deque)  # monotonic times
    clock: Callable[[], float] = time.monotonic
    # Replica -> (when its restart is due, the back-off that makes it so).
    due: dict[int, tuple[float, float]] = field(default_factory=dict)

    def check(self) -> None:
        """Restart any dead replica whose back-off has passed; raise
        :class:`GroupFailed` if nginx is dead or the budget is spent."""
        nginx = self.cluster.proxy.process
        code = nginx.poll()
        if code is not None:
            raise GroupFailed(f"nginx (pid {nginx.pid}) died: {describe_exit(code)}")
        for k, server in enumerate(self.cluster.servers):
            code = server.process.poll()
            if code is None:
                continue
            now = self.clock()
            if k not in self.due:
                wait = self._backoff(k, server, code, now)
                self.due[k] = (now + wait, wait)
            if now >= self.due[k][0]:
                self.restart(k, server, code)

    def _recent(self, now: float) -> int:
        """The restarts within the window up to ``now`` (older ones dropped)."""
        while self.restarts and now - self.restarts[0] > RESTART_WINDOW_S:
            self.restarts.popleft()
        return len(self.restarts)

    def _backoff(
        self, k: int, server: devserver.Server, code: int, now: float
    ) -> float:
        """The wait before replica ``k``, just found dead, is restarted;
        raises :class:`GroupFailed` when the budget is spent."""
        recent = self._recent(now)
        if recent >= MAX_RESTARTS:
            raise GroupFailed(
                f"{_died(k, server, code)}; not restarted: {MAX_RESTARTS} restarts "
                f"within {RESTART_WINDOW_S:.0f} s already"
            )
        return backoff_s(recent)

    def restart(self, k: int, server: devserver.Server, code: int) -> None:
        """Remove the temporary folders replica ``k`` left in the models
        folder, start it again and say so on stderr, in one line."""
        now = self.clock()
        waited = self.due.pop(k, (now, 0.0))[1]
        home = self.cluster.env.get("VAEAPP_HOME")
        removed = remove_stale_temps(Path(home)) if home else []
        self.restarts.append(now)
        new = respawn(server, self.cluster.env)
        self.cluster.servers[k] = new
        plural = "" if len(removed) == 1 else "s"
        swept = f"; removed {len(removed)} unfinished write{plural}" if removed else ""
        print(
            f"{_died(k, server, code)}; restarted on the same port after "
            f"{waited:g} s as pid {new.process.pid} ({len(self.restarts)} of at "
            f"most {MAX_RESTARTS} restarts in {RESTART_WINDOW_S:.0f} s){swept}",
            file=sys.stderr,
            flush=True,
        )


def _died(k: int, server: devserver.Server, code: int) -> str:
    """E.g. ``replica 1 (port 8502, pid 4242) died: killed by SIGKILL``."""
    return (
        f"replica {k} (port {port_of(server)}, pid {server.process.pid}) "
        f"died: {describe_exit(code)}"
    )


def supervise(cluster: Cluster) -> int:
    """Keep the cluster serving until Ctrl-C (0) or until it cannot go on
    (1, after one line on stderr saying why)."""
    supervisor = Supervisor(cluster)
    try:
        while True:
            supervisor.check()
            time.sleep(POLL_S)
    except KeyboardInterrupt:
        return 0
    except GroupFailed as failure:
        print(f"error: {failure}; stopping everything", file=sys.stderr, flush=True)
        return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--port", type=int, default=8080, help="nginx's port")
    parser.add_argument("--home", help="shared VAEAPP_HOME (default: ./runs)")
    parser.add_argument(
        "--print-config",
        action="store_true",
        help="print nginx.conf for replicas on ports 8501, 8502, ... and exit",
    )
    parser.add_argument(
        "--print-compose-config",
        action="store_true",
        help="print compose.yaml's nginx.conf (deploy/compose-nginx.conf) and exit",
    )
    args = parser.parse_args(argv)
    if args.print_compose_config:
        print(render_compose_config(), end="")
        return 0
    if args.print_config:
        ports = [8501 + k for k in range(args.replicas)]
        print(render_config(ports, args.port), end="")
        return 0
    if nginx_binary() is None:
        print("error: nginx not found (apt-get install nginx)", file=sys.stderr)
        return 1
    env = {"VAEAPP_HOME": args.home} if args.home else None
    log_dir = Path(tempfile.mkdtemp(prefix="vaeapp-replicas-"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with running(args.replicas, log_dir=log_dir, env=env, listen=args.port) as cluster:
        for k, server in enumerate(cluster.servers):
            pid = server.process.pid
            print(f"replica {k}: {server.url} pid {pid} (log {server.log_path})")
        print(
            f"serving on {cluster.url}/ through nginx; Ctrl-C stops it all",
            flush=True,  # a supervisor's log, or a test, waits for this line
        )
        return supervise(cluster)


if __name__ == "__main__":
    sys.exit(main())
