"""Load test: concurrent real browser sessions on one server while one retrains.

    python bench/load_test.py --data ../shared/data/mnist.npz [--sessions 10]
        [--seconds 60] [--replicas 2] [--proxy]

Starts ``streamlit run app.py`` on a free port (models written to a temporary
``VAEAPP_HOME``), opens N Playwright pages in Debian's Chromium that move the
pointer over the pad, press slider keys and click the map for the given time,
while the first session starts a retrain from the sidebar. Prints failed
sessions, exceptions in the server log, non-finite decodes, slider-to-digit
latency (median, p95) and the server's memory growth. Not part of the tests.

With ``--replicas N`` (N > 1) or ``--proxy``, N replicas sharing one
``VAEAPP_HOME`` run behind nginx (``deploy/replicas.py``, ``deploy/nginx.conf``)
and the browsers go through it; the figures are then given per replica too.
Either way it also prints the servers' CPU time per server-side action (slider
change or map click), the websocket bytes the browsers received (and, through
nginx, the compressed bytes on the wire) and which replica each session got.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from deploy import replicas  # noqa: E402
from devtools import server as devserver  # noqa: E402
from devtools.browser import browser_missing_reason, launch_async  # noqa: E402

DIGIT = ".vae-z-sliders canvas.vae-digit[data-z]"  # the explorer's decoded digit
# The page's caption names the model it shows.
JS_MODEL = (
    "() => { const c = document.querySelector("
    '\'[data-testid="stMain"] [data-testid="stCaptionContainer"]\');'
    " return c ? c.innerText.split(':')[0] : null; }"
)
# Streamlit 1.67 sliders: a hidden <input type="range" aria-label="z1">.
SLIDER = '.vae-z-slider input[type="range"][aria-label="{}"]'


@dataclass
class Session:
    """What one browser session saw."""

    index: int
    latencies_ms: list[float] = field(default_factory=list)
    actions: int = 0
    live_decodes: int = 0
    nonfinite: int = 0
    errors: list[str] = field(default_factory=list)
    clicks: int = 0  # map clicks (a server rerun each, like a slider change)
    ws_received: int = 0  # websocket payload bytes the browser received
    ws_sent: int = 0
    upstream: str = ""  # the replica nginx sent the page from (X-Upstream)
    # Key presses on the old model's slider while a finished Retrain switched
    # the page to its model: dropped by design (z restarts at the origin).
    presses_across_switch: int = 0
    # Script runs the server finished for this page, by how they ended.
    runs: collections.Counter = field(default_factory=collections.Counter)


def rss_kb(pid: int) -> int:
    """Resident memory of ``pid`` in kB (0 if unreadable)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) ``pid`` has used itself, children not
    included (0 if unreadable): a training run the server started is not counted."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (nginx's workers)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


@dataclass
class Served:
    """What the browsers talk to: one server, or replicas behind nginx."""

    url: str
    servers: list[devserver.Server]
    nginx: replicas.Proxy | None = None

    def proxy_pids(self) -> list[int]:
        if self.nginx is None:
            return []
        return [self.nginx.process.pid, *children(self.nginx.process.pid)]


@contextmanager
def serve(count: int, proxy: bool, folder: Path, env: dict) -> Iterator[Served]:
    """``streamlit run app.py`` alone, or ``count`` replicas behind nginx."""
    if count == 1 and not proxy:
        log = folder / "server.log"
        with devserver.running("app.py", log_path=log, env=env) as server:
            yield Served(f"{server.url}/", [server])
        return
    if replicas.nginx_binary() is None:
        raise SystemExit("error: nginx not found (apt-get install nginx)")
    with replicas.running(count, log_dir=folder, env=env) as cluster:
        yield Served(f"{cluster.url}/", list(cluster.servers), cluster.proxy)


def wire_bytes(access_log: Path) -> int:
    """Bytes nginx sent to browsers on closed websockets (compressed frames)."""
    try:
        text = access_log.read_text(errors="replace")
    except OSError:
        return 0
    found = re.findall(r'"GET /_stcore/stream[^"]*" 101 (\d+)', text)
    return sum(int(n) for n in found)


# How a script run ended, as its ScriptFinished message says.
RUN_ENDS = {
    "FINISHED_SUCCESSFULLY": "full",
    "FINISHED_FRAGMENT_RUN_SUCCESSFULLY": "fragment",
    "FINISHED_EARLY_FOR_RERUN": "stopped for a rerun",
}


def run_end(payload: bytes) -> str | None:
    """The kind of script run a websocket frame from the server ends (one of
    RUN_ENDS' values), or None for any other frame."""
    from google.protobuf.message import DecodeError
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    try:
        message = ForwardMsg.FromString(payload)
    except DecodeError:
        return None
    if message.WhichOneof("type") != "script_finished":
        return None
    return RUN_ENDS.get(ForwardMsg.ScriptFinishedStatus.Name(message.script_finished))


def watch_websockets(page, session: Session) -> None:
    """Count the payload bytes of every websocket frame the page gets or
    sends, and the script runs whose end reaches the page."""

    def on_socket(socket) -> None:
        def received(payload) -> None:
            session.ws_received += len(payload)
            kind = run_end(payload) if isinstance(payload, bytes) else None
            if kind:
                session.runs[kind] += 1

        def sent(payload) -> None:
            session.ws_sent += len(payload)

        socket.on("framereceived", received)
        socket.on("framesent", sent)

    page.on("websocket", on_socket)


async def start_retrain(page) -> None:
    """Open the sidebar's Retrain expander, set a short run on 10,000 images
    and submit the form."""
    sidebar = page.locator('[data-testid="stSidebar"]')
    await sidebar.locator('[data-testid="stExpander"] summary').click()
    # exact role: get_by_label("Epochs") also finds the field's help button.
    epochs = sidebar.get_by_role("spinbutton", name="Epochs", exact=True)
    await epochs.fill("3")
    form = sidebar.locator('[data-testid="stForm"]')
    await form.get_by_role("button", name="Retrain").click()


async def slider_change(page, session: Session) -> None:
    """One arrow key on z1 or z2, timed until the new digit is on screen."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    before = await page.get_attribute(DIGIT, "data-z")
    dim = random.choice([0, 1])
    slider = page.locator(SLIDER.format(f"z{dim + 1}"))
    if await slider.count() != 1:
        # Mid-rerun after a model switch, the old sliders are still shown.
        await asyncio.sleep(0.2)
        return
    # The value is the input's property (z_sliders.js sets it, not the attribute).
    value = float(await slider.input_value())
    low, high, step = [
        float(await slider.get_attribute(name)) for name in ("min", "max", "step")
    ]
    z = float(before.split(",")[dim])
    # Only keys that move z: not past a limit (a map click near the edge puts z
    # there), and not onto z itself, as when a click's rerun and a key press
    # crossed and left the slider one step away from z.
    keys = [
        key
        for key, new in (("ArrowRight", value + step), ("ArrowLeft", value - step))
        if low - step / 2 <= new <= high + step / 2 and abs(new - z) > step / 2
    ]
    if not keys:
        return
    model = await page.evaluate(JS_MODEL)
    await slider.focus()
    start = time.perf_counter()
    key = random.choice(keys)
    await page.keyboard.press(key)
    # Read while the round trip is in flight (it takes far longer): whether the
    # press reached the slider.
    pressed = await page.evaluate(
        "() => [document.activeElement && document.activeElement.ariaLabel,"
        " document.activeElement && document.activeElement.value]"
    )
    try:
        await page.wait_for_function(
            "(old) => { const i = document.querySelector('canvas.vae-digit');"
            " return i && i.dataset.z !== old; }",
            arg=before,
            timeout=15000,
        )
    except PlaywrightTimeout as error:
        if await page.evaluate(JS_MODEL) != model:
            session.presses_across_switch += 1
            return
        now = await slider.input_value() if await slider.count() else None
        raise TimeoutError(
            f"no new digit 15 s after {key} on z{dim + 1} (slider {value} -> "
            f"{pressed[1]} at the press, focus on {pressed[0]}; {now} 15 s later;"
            f" digit z {before}, {session.actions} actions in)"
        ) from error
    session.latencies_ms.append(1000 * (time.perf_counter() - start))


async def pad_moves(page, box: dict) -> None:
    for _ in range(20):
        x = box["x"] + box["width"] * random.uniform(0.05, 0.95)
        y = box["y"] + box["height"] * random.uniform(0.05, 0.95)
        await page.mouse.move(x, y, steps=3)


async def run_session(
    browser, url: str, session: Session, seconds: float, retrain: bool
) -> None:
    page = await browser.new_page(viewport={"width": 1400, "height": 1000})
    page.on("pageerror", lambda error: session.errors.append(f"page error: {error}"))
    watch_websockets(page, session)
    try:
        response = await page.goto(url, timeout=60000)
        if response is not None:
            session.upstream = response.headers.get("x-upstream", "")
        await page.wait_for_selector(".vae-explorer[data-drawn]", timeout=60000)
        await page.wait_for_selector(DIGIT, timeout=60000)
        if retrain:
            await start_retrain(page)
        box = await page.locator(".vae-gl-area").bounding_box()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            action = random.random()
            if action < 0.5:
                await slider_change(page, session)
            elif action < 0.8:
                await pad_moves(page, box)
            else:
                await page.mouse.click(
                    box["x"] + box["width"] * random.uniform(0.1, 0.9),
                    box["y"] + box["height"] * random.uniform(0.1, 0.9),
                )
                session.clicks += 1
                await page.wait_for_timeout(200)
            session.actions += 1
        explorer = page.locator(".vae-explorer")
        session.live_decodes = int(await explorer.get_attribute("data-decodes") or 0)
        session.nonfinite = int(await explorer.get_attribute("data-nonfinite") or 0)
        if await page.locator('[data-testid="stException"]').count():
            session.errors.append("an exception box is shown on the page")
    except Exception as error:  # noqa: BLE001 - any failure marks the session failed
        session.errors.append(f"{type(error).__name__}: {error}")
    finally:
        await page.close()


async def drive(url: str, sessions: int, seconds: float) -> list[Session]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await launch_async(playwright)
        results = [Session(i) for i in range(sessions)]
        await asyncio.gather(
            *(
                run_session(browser, url, s, seconds, retrain=(s.index == 0))
                for s in results
            )
        )
        await browser.close()
    return results


def report_capacity(
    results: list[Session],
    served: Served,
    cpus: list[float],
    rss_starts: list[int],
    rss_ends: list[int],
    seconds: float,
) -> None:
    """Per replica: sessions, CPU per server-side action, memory per session;
    and the websocket bytes the browsers received."""
    actions = sum(len(s.latencies_ms) + s.clicks for s in results)
    where = [s.upstream for s in results]
    print(
        f"server-side actions: {actions} ({sum(len(s.latencies_ms) for s in results)}"
        f" slider changes, {sum(s.clicks for s in results)} map clicks); server "
        f"CPU {sum(cpus):.1f} s = {1000 * sum(cpus) / max(actions, 1):.0f} ms per "
        "action (all server CPU, page loads and the retrain's polling included)"
    )
    for k, server in enumerate(served.servers):
        name = server.url.removeprefix("http://")
        count = where.count(name) if served.nginx else len(results)
        grown = (rss_ends[k] - rss_starts[k]) / 1024
        print(
            f"  replica {k} ({name}): {count} sessions, CPU {cpus[k]:.1f} s, "
            f"memory {rss_starts[k] / 1024:.0f} -> {rss_ends[k] / 1024:.0f} MB "
            f"({grown / max(count, 1):+.1f} MB per session)"
        )
    received = sum(s.ws_received for s in results)
    minutes = len(results) * seconds / 60
    runs = sum((s.runs for s in results), collections.Counter())
    per_minute = ", ".join(
        f"{runs[kind] / max(minutes, 1e-9):.1f} {kind}" for kind in RUN_ENDS.values()
    )
    print(
        f"server cost per session-minute: CPU {sum(cpus) / max(minutes, 1e-9):.2f} s;"
        f" script runs {per_minute}"
    )
    print(
        f"websocket payload received by the browsers: {received / 1e6:.1f} MB "
        f"({received / 1e3 / max(minutes, 1e-9):.0f} kB per session-minute, "
        f"{received / 1e3 / max(actions, 1):.1f} kB per server-side action; page "
        f"loads included), sent {sum(s.ws_sent for s in results) / 1e3:.0f} kB"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="MNIST .npz for the retrain")
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--replicas",
        type=int,
        default=1,
        help="app replicas sharing one VAEAPP_HOME; above 1, behind nginx",
    )
    parser.add_argument(
        "--proxy", action="store_true", help="go through nginx even with 1 replica"
    )
    parser.add_argument(
        "--log-dir",
        type=Path,
        help="copy the server logs here (whole tracebacks; the summary cuts them)",
    )
    args = parser.parse_args(argv)
    if args.replicas < 1:
        parser.error("--replicas must be at least 1")
    missing = browser_missing_reason()
    if missing:
        print(f"error: {missing}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "VAEAPP_HOME": str(Path(tmp) / "models"),
            "VAEAPP_MNIST_DATA": str(Path(args.data).resolve()),
        }
        with serve(args.replicas, args.proxy, Path(tmp), env) as served:
            url = served.url
            urllib.request.urlopen(url, timeout=30).read()
            pids = [server.process.pid for server in served.servers]
            rss_starts = [rss_kb(pid) for pid in pids]
            cpu_starts = [cpu_s(pid) for pid in pids]
            proxy_cpu = -sum(cpu_s(pid) for pid in served.proxy_pids())
            started = time.monotonic()
            results = asyncio.run(drive(url, args.sessions, args.seconds))
            elapsed = time.monotonic() - started
            rss_ends = [rss_kb(pid) for pid in pids]
            cpus = [cpu_s(pid) - c for pid, c in zip(pids, cpu_starts, strict=True)]
            proxy_cpu += sum(cpu_s(pid) for pid in served.proxy_pids())
            proxy_rss = sum(rss_kb(pid) for pid in served.proxy_pids())
            # nginx logs a websocket when it closes: the pages are closed now.
            time.sleep(0.5)
            wire = wire_bytes(served.nginx.access_log) if served.nginx else 0
        text = "".join(
            server.log_path.read_text(errors="replace") for server in served.servers
        )
        if args.log_dir:
            args.log_dir.mkdir(parents=True, exist_ok=True)
            for server in served.servers:
                shutil.copy(server.log_path, args.log_dir / server.log_path.name)
        trained = [p.name for p in (Path(tmp) / "models").glob("mnist-*")]
    rss_start, rss_end = sum(rss_starts), sum(rss_ends)
    latencies = sorted(ms for s in results for ms in s.latencies_ms)
    failed = [s for s in results if s.errors]
    print(f"sessions: {len(results)}, each {args.seconds:.0f} s (wall {elapsed:.0f} s)")
    print(f"failed sessions: {len(failed)}")
    crossed = sum(s.presses_across_switch for s in results)
    if crossed:
        print(f"  key presses dropped across a model switch (by design): {crossed}")
    for session in failed:
        print(f"  session {session.index}: {session.errors[:3]}")
    print(f"exceptions in server log: {text.count('Traceback')}")
    for trace in text.split("Traceback")[1:4]:
        print("  Traceback" + "\n  ".join(trace.strip().splitlines()[-6:]))
    print(
        f"actions: {sum(s.actions for s in results)}, live decodes: "
        f"{sum(s.live_decodes for s in results)}, non-finite decoded pixels: "
        f"{sum(s.nonfinite for s in results)}"
    )
    if latencies:
        p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
        print(
            f"slider-to-digit latency over {len(latencies)} changes: median "
            f"{statistics.median(latencies):.0f} ms, p95 {p95:.0f} ms"
        )
    print(
        f"server memory: {rss_start / 1024:.0f} MB -> {rss_end / 1024:.0f} MB "
        f"({(rss_end - rss_start) / 1024:+.0f} MB)"
    )
    print(f"retrained models published: {trained}")
    report_capacity(results, served, cpus, rss_starts, rss_ends, args.seconds)
    if served.nginx is not None:
        print(
            f"nginx: CPU {proxy_cpu:.1f} s, memory {proxy_rss / 1024:.0f} MB, "
            f"websocket bytes on the wire (compressed) {wire / 1e6:.1f} MB"
        )
    return 0 if not failed and "Traceback" not in text else 1


if __name__ == "__main__":
    sys.exit(main())
