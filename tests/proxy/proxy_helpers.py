"""What the proxy tests share: constants, HTTP through nginx, its access log."""

from __future__ import annotations

import http.cookies
import re
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from deploy import replicas  # noqa: E402

PAGE_LOAD_TIMEOUT_MS = 120_000
VIEWPORT = {"width": 1400, "height": 1000}
DIGIT_IMG = ".vae-z-sliders canvas.vae-digit[data-z]"
MAP_DRAWN = ".vae-explorer[data-drawn] .vae-gl-canvas"  # the WebGL map, drawn
# One line of deploy/nginx.conf's `vaeapp` log format.
LOG_LINE = re.compile(
    r'^\S+ \[[^]]*\] "(?P<request>[^"]*)" (?P<status>\d+) \d+ '
    r"upstream=(?P<upstream>.*?) route=(?P<route>\S*) time=\S+$"
)


def nginx_missing_reason() -> str | None:
    if replicas.nginx_binary() is None:
        return "nginx not found (apt-get install nginx; .ci/run installs it)"
    return None


@dataclass(frozen=True)
class Reply:
    """One HTTP reply through the proxy: the replica that sent it and the
    affinity cookie it set ("" if none)."""

    status: int
    upstream: str
    route_cookie: str


def get(url: str, cookie: str = "") -> Reply:
    """GET ``url``, sending ``vaeapp_replica=cookie`` when given."""
    request = urllib.request.Request(url)
    if cookie:
        request.add_header("Cookie", f"{replicas.ROUTE_COOKIE}={cookie}")
    with urllib.request.urlopen(request, timeout=10) as reply:
        jar = http.cookies.SimpleCookie()
        for header in reply.headers.get_all("Set-Cookie") or []:
            jar.load(header)
        morsel = jar.get(replicas.ROUTE_COOKIE)
        return Reply(
            reply.status,
            reply.headers.get(replicas.UPSTREAM_HEADER, ""),
            morsel.value if morsel else "",
        )


@dataclass
class Proxied:
    """The running cluster and what the tests need to know about it."""

    cluster: replicas.Cluster
    home: Path
    log_dir: Path
    upstreams: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        servers = self.cluster.servers
        self.upstreams = frozenset(self.cluster.upstream(s) for s in servers)

    @property
    def url(self) -> str:
        return self.cluster.url

    def access_log(self) -> list[dict[str, str]]:
        """nginx's access log (deploy/nginx.conf's format) as dicts: request,
        status, upstream (the replica, or several after a retry) and route."""
        rows = []
        text = self.cluster.proxy.access_log.read_text(errors="replace")
        for line in text.splitlines():
            match = LOG_LINE.match(line)
            if match:
                rows.append(match.groupdict())
        return rows

    def logs(self) -> str:
        """The end of every replica's log, for failure messages."""
        return "\n".join(s.log_tail(1500) for s in self.cluster.servers)
