"""Start N app replicas sharing one models folder behind nginx with sticky sessions.

    python deploy/replicas.py --replicas 2 --port 8080 [--home runs]
    python deploy/replicas.py --replicas 4 --print-config > /srv/nginx/nginx.conf

Each replica is ``streamlit run app.py`` on its own free 127.0.0.1 port
(:mod:`vaeapp.devserver`), all with the same ``VAEAPP_HOME`` (so one training
run at a time across them, and every model seen by all) and the same
``server.cookieSecret`` (``STREAMLIT_SERVER_COOKIE_SECRET``, taken from the
environment or made up once for the group). nginx runs unprivileged in a
temporary prefix with a copy of ``deploy/nginx.conf`` whose ``listen`` port and
upstream ``server`` lines name those ports. The tests and ``bench/load_test.py
--replicas N`` use :func:`running`; the command runs until Ctrl-C.
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
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from vaeapp import devserver  # noqa: E402

CONFIG = ROOT / "deploy" / "nginx.conf"
NGINX_CANDIDATES = ("nginx", "/usr/sbin/nginx")
ROUTE_COOKIE = "vaeapp_replica"  # the affinity cookie nginx sets
UPSTREAM_HEADER = "X-Upstream"  # names the replica that answered
COOKIE_SECRET_ENV = "STREAMLIT_SERVER_COOKIE_SECRET"
_UPSTREAM = re.compile(r"(upstream\s+\w+\s*\{)(.*?)(\})", re.S)
_SERVER_LINE = re.compile(r"^(\s*)server\s+[^;]+;\n", re.M)
_LISTEN = re.compile(r"^(\s*)listen\s+[^;]+;", re.M)


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
        process = subprocess.Popen(
            [*command, "-g", "daemon off;"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
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
    """Stop nginx (SIGTERM: fast shutdown); kill it if it lingers."""
    devserver.stop_process(proxy.process, timeout_s)


@dataclass(frozen=True)
class Cluster:
    """N replicas behind one nginx: ``url`` is the proxy's."""

    proxy: Proxy
    servers: tuple[devserver.Server, ...]

    @property
    def url(self) -> str:
        return self.proxy.url

    def upstream(self, server: devserver.Server) -> str:
        """How nginx names ``server`` in ``X-Upstream`` and its access log."""
        return server.url.removeprefix("http://")


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
        servers = []
        for k in range(replicas):
            server = devserver.spawn(
                "app.py", log_path=log_dir / f"replica-{k}.log", env=env,
                options=options,
            )  # fmt: skip
            stack.callback(devserver.stop, server)
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
        cluster = Cluster(proxy, tuple(servers))
        try:
            yield cluster
        finally:
            # Keep nginx's logs next to the replicas' before the prefix goes.
            for name in ("access.log", "error.log"):
                source = prefix / name
                if source.exists():
                    shutil.copy(source, log_dir / f"nginx-{name}")


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
    args = parser.parse_args(argv)
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
            print(f"replica {k}: {server.url} (log {server.log_path})")
        print(f"serving on {cluster.url}/ through nginx; Ctrl-C stops it all")
        try:
            while all(s.process.poll() is None for s in cluster.servers):
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
