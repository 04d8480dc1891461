"""Two app replicas behind nginx (deploy/nginx.conf) on one models folder.

The browser tests share two pages, one per replica, in file order: both load,
a retrain started in the first is seen as busy in the second, the model it
publishes is listed by both, a model zip is uploaded through the proxy, and
last, with the pages closed, nginx's log shows that each browser's requests
(its websocket and its upload included) all went to its own replica.
"""

from __future__ import annotations

import gzip
import io
import re
import subprocess
import tempfile
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from proxy_helpers import (
    DIGIT_IMG,
    MAP_DRAWN,
    PAGE_LOAD_TIMEOUT_MS,
    VIEWPORT,
    Proxied,
    get,
)

from deploy import replicas
from vaeapp.core.config import ModelConfig, TrainConfig
from vaeapp.jobs import runner as jobs
from vaeapp.store.format import MODEL_FILES, PRETRAINED_DIR
from vaeapp.ui.sidebar.retrain import BUSY_NOTE

TRAIN_TIMEOUT_S = 150
SIDEBAR = '[data-testid="stSidebar"]'
ALWAYS_ANYWHERE = ("/app/static/", "/static/")  # not sticky (deploy/nginx.conf)


def test_the_shipped_config_passes_nginx_t() -> None:
    """deploy/nginx.conf as shipped is accepted by `nginx -t` in a temp prefix."""
    binary = replicas.nginx_binary()
    if binary is None:
        pytest.skip("nginx not found (apt-get install nginx; .ci/run installs it)")
    with tempfile.TemporaryDirectory() as prefix:
        done = subprocess.run(
            [binary, "-t", "-p", prefix, "-c", str(replicas.CONFIG), "-e", "stderr"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert done.returncode == 0, done.stderr


def test_the_rendered_config_names_every_replica_in_every_upstream() -> None:
    """render_config puts one server line per port in each upstream block and
    the chosen port in the listen line, leaving the rest of the file as is."""
    text = replicas.render_config([9001, 9002, 9003], 9100)
    blocks = re.findall(r"upstream (\w+) \{(.*?)\}", text, re.S)
    assert [name for name, _ in blocks] == ["vaeapp_sessions", "vaeapp_any"]
    for _, body in blocks:
        assert re.findall(r"server (\S+);", body) == [
            "127.0.0.1:9001",
            "127.0.0.1:9002",
            "127.0.0.1:9003",
        ]
    assert re.findall(r"listen (\S+);", text) == ["127.0.0.1:9100"]
    assert replicas.render_config([8501, 8502], 8080) == replicas.CONFIG.read_text()


def test_new_clients_spread_over_replicas_and_a_cookie_keeps_one(
    proxied: Proxied,
) -> None:
    """Clients without the cookie get one and reach both replicas (all from
    127.0.0.1); a client sending its cookie always reaches the same replica."""
    first = [get(f"{proxied.url}/_stcore/health") for _ in range(20)]
    assert all(r.status == 200 and r.route_cookie for r in first)
    assert {r.upstream for r in first} == proxied.upstreams
    for reply in first[:6]:
        again = [get(f"{proxied.url}/", reply.route_cookie) for _ in range(4)]
        assert {r.upstream for r in again} == {reply.upstream}
        assert not any(r.route_cookie for r in again)  # set once, not again


class Browsers:
    """Two browser contexts, each pinned to a different replica by nginx."""

    def __init__(self, browser: Any, proxied: Proxied) -> None:
        self.contexts: list[Any] = []
        self.pages: list[Any] = []
        self.upstreams: list[str] = []
        self.cookies: list[str] = []
        for _ in range(12):  # each new context lands on either replica
            context = browser.new_context(viewport=VIEWPORT)
            reply = context.request.get(f"{proxied.url}/_stcore/health")
            upstream = reply.headers.get(replicas.UPSTREAM_HEADER.lower(), "")
            if upstream in self.upstreams:
                context.close()
                continue
            self.contexts.append(context)
            self.upstreams.append(upstream)
            cookie = {c["name"]: c["value"] for c in context.cookies()}
            self.cookies.append(cookie.get(replicas.ROUTE_COOKIE, ""))
            if len(self.contexts) == 2:
                break
        assert len(self.contexts) == 2, "12 new browsers all landed on one replica"

    def open(self, url: str) -> list[str]:
        """Load the app in both; return the replica that sent each page."""
        sent = []
        for context in self.contexts:
            page = context.new_page()
            page.set_default_timeout(30_000)
            response = page.goto(url, timeout=PAGE_LOAD_TIMEOUT_MS)
            sent.append(response.headers.get(replicas.UPSTREAM_HEADER.lower(), ""))
            self.pages.append(page)
        for page in self.pages:
            for selector in (MAP_DRAWN, DIGIT_IMG):
                page.wait_for_selector(selector, timeout=PAGE_LOAD_TIMEOUT_MS)
        return sent

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        self.contexts = []


@pytest.fixture(scope="module")
def browsers(browser: Any, proxied: Proxied) -> Iterator[Browsers]:
    pair = Browsers(browser, proxied)
    try:
        yield pair
    finally:
        pair.close()


def test_two_browsers_load_the_page_on_different_replicas(
    proxied: Proxied, browsers: Browsers
) -> None:
    """Through the proxy the page loads (map and digit drawn) in two browsers,
    each page sent by the replica its cookie names, and those differ."""
    sent = browsers.open(f"{proxied.url}/")
    assert sent == browsers.upstreams
    assert set(sent) == proxied.upstreams


def _sidebar_text(page: Any) -> str:
    return page.locator(SIDEBAR).inner_text()


def _start_retrain(page: Any) -> None:
    """Open the sidebar's Retrain expander and submit a 1-epoch run of a small
    dense model."""
    sidebar = page.locator(SIDEBAR)
    sidebar.locator('[data-testid="stExpander"] summary', has_text="Retrain").click()
    sidebar.get_by_role("spinbutton", name="Epochs", exact=True).fill("1")
    sidebar.get_by_role("textbox", name="Hidden widths", exact=True).fill("16")
    form = sidebar.locator('[data-testid="stForm"]')
    form.get_by_role("button", name="Retrain").click()


def test_a_retrain_started_through_one_replica_is_busy_in_the_other(
    proxied: Proxied, browsers: Browsers
) -> None:
    """A retrain submitted in replica A's page holds the lock in the shared
    folder: replica B's page shows the busy note and the progress, and a second
    run cannot start there."""
    page_a, page_b = browsers.pages
    _start_retrain(page_a)
    page_a.locator(SIDEBAR).get_by_role("button", name="Cancel training").wait_for()
    assert jobs.current_job(proxied.home) is not None
    response = page_b.reload(timeout=PAGE_LOAD_TIMEOUT_MS)
    assert response.headers[replicas.UPSTREAM_HEADER.lower()] == browsers.upstreams[1]
    sidebar_b = page_b.locator(SIDEBAR)
    sidebar_b.get_by_text(BUSY_NOTE).wait_for(timeout=60_000)
    assert "(started elsewhere)" in _sidebar_text(page_b)
    sidebar_b.locator('[data-testid="stProgress"]').wait_for()
    assert sidebar_b.get_by_role("button", name="Cancel training").count() == 0
    with pytest.raises(jobs.Busy):
        jobs.start_job(ModelConfig(), TrainConfig(epochs=1), "second", proxied.home)


def _listed(page: Any, name: str) -> bool:
    """Whether the sidebar's model switcher offers ``name``."""
    # The model switcher is the sidebar's first drop-down (the Retrain form's
    # come after it).
    page.locator(SIDEBAR).get_by_role("combobox").first.click()
    try:
        page.get_by_role("option", name=re.compile(re.escape(name))).first.wait_for(
            timeout=5_000
        )
        return True
    except Exception:  # noqa: BLE001 - Playwright's timeout: not offered
        return False
    finally:
        page.keyboard.press("Escape")


def test_the_trained_model_is_listed_by_both_replicas(
    proxied: Proxied, browsers: Browsers
) -> None:
    """When the run ends, its model is explored in replica A's page and offered
    by the model switcher in both replicas' pages."""
    deadline = time.monotonic() + TRAIN_TIMEOUT_S
    while jobs.current_job(proxied.home) is not None:
        assert time.monotonic() < deadline, "training did not end in time"
        time.sleep(0.5)
    trained = [p.name for p in proxied.home.glob("mnist-*") if p.is_dir()]
    assert len(trained) == 1, (trained, proxied.logs())
    name = trained[0]
    page_a, page_b = browsers.pages
    page_a.get_by_text(f"now exploring {name}").wait_for(timeout=30_000)
    # B's page reruns in full once the run it follows has ended.
    page_b.locator(SIDEBAR).get_by_text(BUSY_NOTE).wait_for(
        state="detached", timeout=30_000
    )
    for page in (page_a, page_b):
        assert _listed(page, name), name


def _model_zip() -> bytes:
    """The shipped tutorial model's files zipped as the app's download does
    (about 2.5 MB: more than nginx's default body limit of 1 MB)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in MODEL_FILES:  # the optional files it has (no 2-D UMAP plane)
            path = PRETRAINED_DIR / "mnist-tutorial" / name
            if path.is_file():
                archive.write(path, arcname=name)
    return buffer.getvalue()


def test_a_model_zip_uploads_through_the_proxy(
    proxied: Proxied, browsers: Browsers
) -> None:
    """A model zip given to replica B's sidebar uploader is imported through
    nginx (its PUT reaching B) and B explores it."""
    page_b = browsers.pages[1]
    data = _model_zip()
    assert len(data) > 1 << 20
    uploader = page_b.locator(SIDEBAR).locator('[data-testid="stFileUploader"]')
    uploader.locator('input[type="file"]').set_input_files(
        {"name": "proxied.zip", "mimeType": "application/zip", "buffer": data}
    )
    # The message is outside text (vaeapp.core.text.plain): word joiners sit around
    # its full stop, so match the words before it.
    page_b.get_by_text("Imported proxied; now exploring it").wait_for(timeout=60_000)
    assert (proxied.home / "proxied").is_dir()
    puts = [
        row
        for row in proxied.access_log()
        if row["request"].startswith("PUT /_stcore/upload_file/")
    ]
    assert puts and {r["upstream"] for r in puts} == {browsers.upstreams[1]}, puts
    assert all(r["status"] in ("200", "204") for r in puts), puts


def test_every_request_of_a_browser_went_to_its_replica(
    proxied: Proxied, browsers: Browsers
) -> None:
    """nginx's log (written when the pages close) shows each browser's
    websocket upgraded (101) on its own replica, and every request of it that
    must be sticky sent there too."""
    browsers.close()
    time.sleep(0.5)
    rows = proxied.access_log()
    for cookie, upstream in zip(browsers.cookies, browsers.upstreams, strict=True):
        mine = [r for r in rows if r["route"] == cookie]
        streams = [r for r in mine if r["request"].startswith("GET /_stcore/stream")]
        assert streams and all(r["status"] == "101" for r in streams), streams
        sticky = [
            r
            for r in mine
            if not r["request"].split(" ")[1].startswith(ALWAYS_ANYWHERE)
        ]
        assert {r["upstream"] for r in sticky} == {upstream}, sticky


def test_streamlits_own_assets_come_gzipped_through_nginx(proxied: Proxied) -> None:
    """The page's JavaScript bundle (under /static/, Streamlit's own) comes
    through nginx gzip-encoded to a client that accepts it, smaller than it
    is, and as is to one that does not."""
    with urllib.request.urlopen(f"{proxied.url}/", timeout=10) as reply:
        html = reply.read().decode()
    script = re.search(r'src="\.?/?(static/js/[^"]+\.js)"', html)
    assert script is not None, html[:500]
    url = f"{proxied.url}/{script.group(1)}"
    plain = urllib.request.Request(url, headers={"Accept-Encoding": "identity"})
    with urllib.request.urlopen(plain, timeout=10) as reply:
        assert reply.headers.get("Content-Encoding") is None
        size = len(reply.read())
    asked = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(asked, timeout=10) as reply:
        assert reply.headers.get("Content-Encoding") == "gzip"
        body = reply.read()
    assert len(gzip.decompress(body)) == size and len(body) < size / 2
