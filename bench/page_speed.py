"""Page speed of the explorer, measured in headless Chromium.

Command line: ``python bench/page_speed.py [--runs N] [--live-seconds S]``.

Starts ``streamlit run app.py`` on a free localhost port (``VAEAPP_HOME`` in a
temporary folder, so no trained models show up), drives Debian's Chromium
(``/usr/bin/chromium``) with Playwright's sync API and prints a table of:

1. first page: seconds from spawning the server process until the map's
   WebGL canvas, the decoded digit and the manifold grid are all visible in a
   fresh browser session (the browser is launched before the spawn and not
   counted), with the websocket bytes received until then; a second fresh
   session on the now warm server is shown too;
2. change to digit: milliseconds from an input to the new decoded digit on
   screen (its ``data-z`` names the new z and the image loaded), median and p95 over
   ``--runs`` ArrowRight presses on the z1 slider and ``--runs`` clicks on
   the map;
3. live decodes per second in the browser while the pointer moves over the
   map for ``--live-seconds`` (the ``data-decodes`` counter of
   ``.vae-explorer``), with Playwright's ``page.mouse.move`` in small steps
   (this is bounded by how many pointer events Playwright delivers, shown
   too), and with a script in the page dispatching one ``pointermove`` per
   animation frame (bounded by the frame rate);
4. server side, in this process: the 15x15 and 30x30 manifold grids decoded
   with NumPy by the best pretrained model (median over ``--grid-runs``), and,
   as a proxy for the explorer fragment's own run time, one decode plus
   ``digit_image`` plus ``png_bytes`` (Streamlit's own overhead and its image
   encoding are not included).

Timings are as measured; on a busy machine they are noisy.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from devtools import server as devserver  # noqa: E402
from devtools.browser import browser_missing_reason, chromium, with_digit  # noqa: E402

VIEWPORT = {"width": 1400, "height": 1000}
MAP_DRAWN = ".vae-explorer[data-drawn] .vae-gl-canvas"  # the WebGL map, drawn
DIGIT_IMG = ".vae-z-sliders canvas.vae-digit[data-z]"  # the explorer's decoded digit
GRID_IMG = "canvas.vae-grid[data-by]"
Z1_SLIDER = '.vae-z-slider input[type="range"][aria-label="z1"]'
SERVER_TIMEOUT_S = 120.0
CHANGE_TIMEOUT_MS = 15_000
CLICK_TIMEOUT_MS = 5_000

# The download of the selected image: 28x28 scaled to vaeapp.ui.views.explorer.DIGIT_PX
# (224 px; importing the page needs a runtime).
DIGIT_SCALE = 8
GOAL_FIRST_PAGE_S = 2.5
GOAL_CHANGE_MS = 150.0
GOAL_LIVE_PER_S = 30.0
GOAL_GRID_MS = {15: 5.0, 30: 20.0}


_JS_SRC = with_digit(
    """() => {
  DIGIT_IMG_JS
  const img = digitImg();
  return img ? img.dataset.z : null;
}"""
)
_JS_SRC_CHANGED = with_digit(
    """(old) => {
  DIGIT_IMG_JS
  const img = digitImg();
  return !!img && img.dataset.z !== old;
}"""
)
_JS_DECODES = (
    "() => Number(document.querySelector('.vae-explorer').dataset.decodes || 0)"
)
_JS_FRAME_MOVES = """async ([seconds, x0, y0, r]) => {
  const root = document.querySelector('.vae-explorer');
  const target = document.querySelector('.vae-gl-area');
  const count = () => Number(root.dataset.decodes || 0);
  const frame = () => new Promise((done) => requestAnimationFrame(done));
  const c0 = count(), t0 = performance.now();
  let frames = 0;
  while (performance.now() - t0 < seconds * 1000) {
    await frame();
    const a = ((performance.now() - t0) / 1500) * 2 * Math.PI;
    target.dispatchEvent(new PointerEvent('pointermove', {
      bubbles: true, clientX: x0 + r * Math.cos(a), clientY: y0 + r * Math.sin(a),
    }));
    frames += 1;
  }
  await frame();
  const dt = (performance.now() - t0) / 1000;
  return [(count() - c0) / dt, frames / dt];
}"""
_JS_TO_PAGE = """([x, y]) => {
  const map = document.querySelector('.vae-map');
  const [x0, x1, y0, y1] = map.dataset.view.split(',').map(Number);
  const box = map.querySelector('.vae-gl-area').getBoundingClientRect();
  return [box.left + (x - x0) / (x1 - x0) * box.width,
          box.top + (y1 - y) / (y1 - y0) * box.height];
}"""


def open_page(browser: Any, url: str) -> tuple[Any, list[tuple[float, int]]]:
    """A new session's page with map, digit and grid visible, and the
    ``(perf_counter time, size)`` of each websocket message received until then."""
    page = browser.new_context(viewport=VIEWPORT).new_page()
    frames: list[tuple[float, int]] = []

    def watch(socket: Any) -> None:
        socket.on(
            "framereceived",
            lambda frame: frames.append((time.perf_counter(), len(frame or b""))),
        )

    page.on("websocket", watch)
    page.goto(url, timeout=SERVER_TIMEOUT_S * 1000)
    for selector in (MAP_DRAWN, DIGIT_IMG, GRID_IMG):
        page.wait_for_selector(
            selector, state="visible", timeout=SERVER_TIMEOUT_S * 1000
        )
    page.remove_listener("websocket", watch)
    return page, list(frames)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) by linear interpolation."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _time_change(page: Any, act: Callable[[], None], timeout_ms: int) -> float | None:
    """Milliseconds from ``act()`` to a new digit on screen; None on timeout."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    old = page.evaluate(_JS_SRC)
    start = time.perf_counter()
    act()
    try:
        page.wait_for_function(
            _JS_SRC_CHANGED, arg=old, polling="raf", timeout=timeout_ms
        )
    except PlaywrightTimeout:
        return None
    return (time.perf_counter() - start) * 1000.0


def slider_changes(page: Any, runs: int) -> list[float]:
    """ArrowRight (ArrowLeft near the end) on z1, timed to the new digit."""
    slider = page.locator(Z1_SLIDER)
    slider.focus()
    times = []
    for _ in range(runs):
        key = "ArrowRight" if float(slider.input_value()) < 3.9 else "ArrowLeft"
        ms = _time_change(page, lambda k=key: page.keyboard.press(k), CHANGE_TIMEOUT_MS)
        if ms is None:
            raise RuntimeError(f"no new digit {CHANGE_TIMEOUT_MS} ms after {key}")
        times.append(ms)
    return times


def click_changes(page: Any, runs: int) -> list[float]:
    """Clicks on distinct map points, timed to the new digit; stops at the first
    click that changes nothing within CLICK_TIMEOUT_MS (returns what it has)."""
    times = []
    for i in range(runs):
        x = -3.5 + 7.0 * i / max(runs - 1, 1)
        y = 3.5 if i % 2 else 2.5
        point = page.evaluate(_JS_TO_PAGE, [x, y])
        ms = _time_change(page, lambda p=point: page.mouse.click(*p), CLICK_TIMEOUT_MS)
        if ms is None:
            break
        times.append(ms)
    page.mouse.move(2, 2)
    return times


def live_rate(page: Any, seconds: float) -> tuple[float, float]:
    """(decodes per second, pointer events sent per second) while the pointer
    circles over the map in small steps for ``seconds``."""
    import math

    centre = page.evaluate(_JS_TO_PAGE, [0.0, 0.0])
    edge = page.evaluate(_JS_TO_PAGE, [3.0, 0.0])
    radius = edge[0] - centre[0]
    page.mouse.move(centre[0] + radius, centre[1])
    page.wait_for_timeout(200)
    count0 = page.evaluate(_JS_DECODES)
    moves = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        angle = 2 * math.pi * elapsed / 1.5
        page.mouse.move(
            centre[0] + radius * math.cos(angle), centre[1] + radius * math.sin(angle)
        )
        moves += 1
    elapsed = time.perf_counter() - start
    page.wait_for_timeout(50)
    count1 = page.evaluate(_JS_DECODES)
    page.mouse.move(2, 2)
    return (count1 - count0) / elapsed, moves / elapsed


def frame_rate_decodes(page: Any, seconds: float) -> tuple[float, float]:
    """(decodes per second, frames per second) when a script dispatches one
    pointermove on the map per animation frame for ``seconds``: whether live
    decoding keeps up with the display rather than with Playwright's events."""
    centre = page.evaluate(_JS_TO_PAGE, [0.0, 0.0])
    edge = page.evaluate(_JS_TO_PAGE, [3.0, 0.0])
    rate = page.evaluate(_JS_FRAME_MOVES, [seconds, *centre, edge[0] - centre[0]])
    page.mouse.move(2, 2)
    return rate[0], rate[1]


# --- First page over a shaped network, against the plain hand-written page ---

_JS_FIRST_PAGE = """(digitSelector) => {
  const drawn = [...document.querySelectorAll('.vae-explorer[data-drawn]')].some(
    (root) => !!root.__state && root.__state.model.count >= 10000) ||
    [...document.querySelectorAll('.js-plotly-plot')].some((plot) =>
      !!plot.querySelector('.main-svg') &&
      (plot._fullData || []).reduce((n, t) => n + (t.x ? t.x.length : 0), 0) >= 10000);
  const img = document.querySelector(digitSelector);
  const shown = img &&
    (img.tagName === 'CANVAS' || (img.complete && img.naturalWidth > 0));
  return drawn && !!shown;
}"""
# The live preview can decode: latent_map.js marks data-decoder "ready" when the
# decoder's weights are in (a page without the attribute had them with the map).
_JS_LIVE_READY = (
    "() => { const r = document.querySelector('.vae-explorer');"
    " return !!r && !!r.dataset.z && (r.dataset.decoder || 'ready') === 'ready'; }"
)
PLAIN_DIGIT_IMG = '[data-testid="stImage"] img'


class _Link:
    """One direction of a shaped link shared by all connections: a chunk leaves
    once the link has sent what came before it at ``rate`` bytes/s, and arrives
    ``delay`` s later."""

    def __init__(self, rate: float | None, delay: float) -> None:
        self.rate, self.delay = rate, delay
        self.free_at = 0.0
        self.bytes = 0

    def arrival(self, now: float, size: int) -> float:
        self.bytes += size
        if self.rate is None:
            return now + self.delay
        self.free_at = max(now, self.free_at) + size / self.rate
        return self.free_at + self.delay


class ShapingProxy:
    """A localhost TCP proxy that shapes HTTP and websocket traffic alike.

    Every connection to ``port`` is relayed to ``target_port``; bytes towards
    the browser share one ``down`` link and bytes towards the server one ``up``
    link (rates in bit/s), each adding half of ``rtt`` s. It runs an asyncio
    loop in a thread of its own; ``down.bytes`` and ``up.bytes`` count what went
    through. Chromium's own network emulation is not used: it slows websockets
    to about a third of the rate it is given.
    """

    def __init__(
        self, target_port: int, down_bits: float, up_bits: float, rtt: float
    ) -> None:
        import asyncio
        import threading

        self.target_port = target_port
        self.down = _Link(down_bits / 8, rtt / 2)
        self.up = _Link(up_bits / 8, rtt / 2)
        self._loop = asyncio.new_event_loop()
        self._server: Any = None
        started = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._handle, "127.0.0.1", 0)
            )
            started.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        started.wait()
        self.port = self._server.sockets[0].getsockname()[1]

    def reset(self) -> None:
        """Zero the byte counters."""
        self.down.bytes = self.up.bytes = 0

    def close(self) -> None:
        """Stop listening, end every relayed connection and the loop's thread."""
        import asyncio

        async def shutdown() -> None:
            self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    async def _handle(self, client_reader: Any, client_writer: Any) -> None:
        import asyncio

        try:
            server_reader, server_writer = await asyncio.open_connection(
                "127.0.0.1", self.target_port
            )
        except OSError:
            client_writer.close()
            return
        writers = (client_writer, server_writer)
        await asyncio.gather(
            self._pipe(client_reader, server_writer, self.up, writers),
            self._pipe(server_reader, client_writer, self.down, writers),
            return_exceptions=True,
        )
        for writer in writers:
            writer.close()

    async def _pipe(self, reader: Any, writer: Any, link: _Link, writers: Any) -> None:
        import asyncio

        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()

        async def send() -> None:
            while (item := await queue.get()) is not None:
                when, data = item
                if (wait := when - loop.time()) > 0:
                    await asyncio.sleep(wait)
                writer.write(data)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()

        sender = asyncio.ensure_future(send())
        try:
            while data := await reader.read(65536):
                queue.put_nowait((link.arrival(loop.time(), len(data)), data))
            queue.put_nowait(None)
            await sender
        except (OSError, asyncio.IncompleteReadError):
            sender.cancel()
            for other in writers:  # a reset on one side ends both
                other.close()


def _first_page(
    context: Any, url: str, digit: str, proxy: ShapingProxy | None, live: bool
) -> dict[str, float]:
    """Seconds from navigation until ``_JS_FIRST_PAGE`` holds in a new page of
    ``context``, with the bytes through ``proxy`` until then; for the
    explorer (``live``) also until its live decoder is ready."""
    page = context.new_page()
    if proxy:
        proxy.reset()
    start = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=SERVER_TIMEOUT_S * 1000)
    page.wait_for_function(
        _JS_FIRST_PAGE, arg=digit, polling="raf", timeout=SERVER_TIMEOUT_S * 1000
    )
    result = {"s": time.perf_counter() - start}
    if proxy:
        result["down"], result["up"] = proxy.down.bytes, proxy.up.bytes
    if live:
        page.wait_for_function(
            _JS_LIVE_READY, polling="raf", timeout=SERVER_TIMEOUT_S * 1000
        )
        result["live"] = time.perf_counter() - start
    page.close()
    return result


def compare_first_pages(
    browser: Any, tmp: Path, rounds: int, down: float, up: float, rtt: float
) -> list[str]:
    """The explorer's and the plain page's first page, cold and warm browser
    cache, through a shaped proxy and directly on localhost; table lines."""
    home = tmp / "net_home"
    home.mkdir()
    pages = {
        "explorer": ("app.py", {"VAEAPP_HOME": str(home)}, DIGIT_IMG),
        "plain": ("bench/plain_page.py", {}, PLAIN_DIGIT_IMG),
    }
    results: dict[tuple[str, str, str], list[dict[str, float]]] = {}
    servers, proxies = {}, {}
    try:
        for name, (script, env, _) in pages.items():
            servers[name] = devserver.spawn(
                script, log_path=tmp / f"{name}.log", env=env
            )
        for name, server in servers.items():
            devserver.wait_ready(server, SERVER_TIMEOUT_S)
            port = int(server.url.rsplit(":", 1)[1])
            proxies[name] = ShapingProxy(port, down, up, rtt)
            # One untimed visit: server-side caches and files, as on a used server.
            context = browser.new_context(viewport=VIEWPORT)
            _first_page(context, server.url, pages[name][2], None, name == "explorer")
            context.close()
        for r in range(rounds):
            order = list(pages) if r % 2 == 0 else list(pages)[::-1]
            for network in ("shaped", "local"):
                for name in order:
                    proxy = proxies[name] if network == "shaped" else None
                    url = servers[name].url
                    if proxy:
                        url = f"http://127.0.0.1:{proxy.port}"
                    context = browser.new_context(viewport=VIEWPORT)
                    for cache in ("cold", "warm"):
                        visit = _first_page(
                            context, url, pages[name][2], proxy, name == "explorer"
                        )
                        results.setdefault((network, name, cache), []).append(visit)
                    context.close()
    finally:
        for proxy in proxies.values():
            proxy.close()
        for server in servers.values():
            devserver.stop(server)

    def median(key: tuple[str, str, str], field: str) -> float:
        return statistics.median(item[field] for item in results[key])

    lines = [
        f"first page, {rounds} rounds (medians; explorer vs plain page; cold = new "
        f"browser context, warm = second visit in it); shaped: {down / 1e6:g} Mbit/s "
        f"down, {up / 1e6:g} up, {rtt * 1000:g} ms RTT",
        f"{'network':<8} {'cache':<6} {'explorer s':>11} {'plain s':>9} {'ratio':>7}"
        f" {'explorer kB down/up':>20} {'plain kB down/up':>18} {'live s':>7}",
    ]
    for network in ("shaped", "local"):
        for cache in ("cold", "warm"):
            ours, plain = (median((network, n, cache), "s") for n in pages)
            row = (
                f"{network:<8} {cache:<6} {ours:>11.2f} {plain:>9.2f} "
                f"{ours / plain:>7.2f}"
            )
            if network == "shaped":
                for name, width in zip(pages, (20, 18), strict=True):
                    down_kb, up_kb = (
                        median((network, name, cache), f) / 1e3 for f in ("down", "up")
                    )
                    row += f" {f'{down_kb:.0f} / {up_kb:.0f}':>{width}}"
            else:
                row += f" {'':>20} {'':>18}"
            row += f" {median((network, 'explorer', cache), 'live'):>7.2f}"
            lines.append(row)
    for network in ("shaped", "local"):
        for cache in ("cold", "warm"):
            pairs = zip(
                results[(network, "explorer", cache)],
                results[(network, "plain", cache)],
                strict=True,
            )
            ratios = ", ".join(f"{a['s'] / b['s']:.2f}" for a, b in pairs)
            lines.append(f"  ratios by round, {network} {cache}: {ratios}")
    return lines


def server_side(grid_runs: int) -> dict[str, Any]:
    """(median, fastest) milliseconds of the grid decodes and the digit-path
    proxy, and the model's name."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import numpy as np

    from vaeapp.explore.images import digit_image, png_bytes
    from vaeapp.explore.manifold import manifold
    from vaeapp.store.listing import best_pretrained
    from vaeapp.store.reading import load_model

    model = load_model(best_pretrained())
    decode = model.vae.decode

    def median_ms(work: Callable[[], object]) -> tuple[float, float]:
        work()  # warm-up
        times = []
        for _ in range(grid_runs):
            start = time.perf_counter()
            work()
            times.append((time.perf_counter() - start) * 1000.0)
        return statistics.median(times), min(times)

    z = np.array([0.5, -0.25], np.float32)
    return {
        "model": model.record.name,
        "grid15": median_ms(lambda: manifold(decode, 15)),
        "grid30": median_ms(lambda: manifold(decode, 30)),
        "digit": median_ms(lambda: png_bytes(digit_image(decode(z)[0], DIGIT_SCALE))),
    }


def _row(name: str, value: str, goal: str, ok: bool | None) -> str:
    verdict = "-" if ok is None else ("ok" if ok else "MISSED")
    return f"{name:<58} {value:>18}  {goal:<8} {verdict}"


def _stats(times: list[float]) -> tuple[float, float]:
    return statistics.median(times), percentile(times, 0.95)


def local_measures(args: argparse.Namespace, browser: Any, tmp: Path) -> list[str]:
    """The measures on localhost from a server spawn (1 to 4 of the module's
    docstring); the lines of their table."""
    home, log_path = tmp / "home", tmp / "server.log"
    home.mkdir()
    server = devserver.spawn(
        "app.py", log_path=log_path, env={"VAEAPP_HOME": str(home)}
    )
    url, spawned = server.url, server.spawned
    try:
        devserver.wait_ready(server, SERVER_TIMEOUT_S)
        answering = time.perf_counter() - spawned
        page, frames = open_page(browser, url)
        first_page = time.perf_counter() - spawned
        start = time.perf_counter()
        open_page(browser, url)[0].context.close()
        warm_page = time.perf_counter() - start
        slider_ms = slider_changes(page, args.runs)
        click_ms = click_changes(page, args.runs)
        decodes, moves = live_rate(page, args.live_seconds)
        frame_decodes, frame_rate = frame_rate_decodes(page, args.live_seconds)
        page.context.close()
    finally:
        devserver.stop(server)
    server_times = server_side(args.grid_runs)

    largest = max(frames, key=lambda item: item[1], default=(spawned, 0))
    lines = [
        f"{'measure':<58} {'measured':>18}  {'goal':<8} verdict",
        _row("server answers /_stcore/health (s)", f"{answering:.2f}", "", None),
        _row(
            "first full page from spawn (s)",
            f"{first_page:.2f}",
            f"<= {GOAL_FIRST_PAGE_S}",
            first_page <= GOAL_FIRST_PAGE_S,
        ),
        _row(
            "  websocket bytes to first page (largest)",
            f"{sum(size for _, size in frames) / 1e6:.1f} MB ({largest[1] / 1e6:.1f})",
            "",
            None,
        ),
        _row(
            "  largest websocket message arrived, from spawn (s)",
            f"{largest[0] - spawned:.2f}",
            "",
            None,
        ),
        _row("full page, new session, warm server (s)", f"{warm_page:.2f}", "", None),
    ]
    for label, times in (("slider ArrowRight", slider_ms), ("map click", click_ms)):
        name = f"{label} -> new digit, median / p95 (ms)"
        if times:
            median, p95 = _stats(times)
            value = f"{median:.0f} / {p95:.0f} (n={len(times)})"
            lines.append(
                _row(name, value, f"<= {GOAL_CHANGE_MS:.0f}", median <= GOAL_CHANGE_MS)
            )
        else:
            value = "no change"
            lines.append(_row(name, value, f"<= {GOAL_CHANGE_MS:.0f}", False))
    lines.append(
        _row(
            "live decodes while pointer moves (/s)",
            f"{decodes:.1f}",
            f">= {GOAL_LIVE_PER_S:.0f}",
            decodes >= GOAL_LIVE_PER_S,
        )
    )
    lines.append(_row("  pointer events sent (/s)", f"{moves:.0f}", "", None))
    lines.append(
        _row(
            "live decodes, one pointermove per frame (/s)",
            f"{frame_decodes:.1f}",
            f">= {GOAL_LIVE_PER_S:.0f}",
            frame_decodes >= GOAL_LIVE_PER_S,
        )
    )
    lines.append(_row("  animation frames (/s)", f"{frame_rate:.0f}", "", None))
    for n in (15, 30):
        ms, fastest = server_times[f"grid{n}"]
        goal = GOAL_GRID_MS[n]
        lines.append(
            _row(
                f"grid {n}x{n} NumPy decode, median (fastest) (ms)",
                f"{ms:.2f} ({fastest:.2f})",
                f"< {goal:g}",
                ms < goal,
            )
        )
    lines.append(
        _row(
            "digit proxy: decode+digit_image+png, median (fastest) (ms)",
            "{:.2f} ({:.2f})".format(*server_times["digit"]),
            "",
            None,
        )
    )
    lines.insert(0, f"model (server side): {server_times['model']}; runs: {args.runs}")
    if len(click_ms) < args.runs:
        lines.append(
            f"note: only {len(click_ms)} of {args.runs} map clicks changed the digit "
            f"within {CLICK_TIMEOUT_MS} ms; the rest were not timed"
        )
    lines.append(
        "note: the digit proxy leaves out Streamlit's rerun overhead and st.image's "
        "own encoding; the fragment's full run time is not measured directly"
    )
    return lines


# --- What the browser draws (issue 26), against the plain page -------------

GOAL_SLIDER_RATIO = 0.2  # slider step -> new image, explorer / plain page
GOAL_GRID_MS = {"28x28": 100.0, "32x32x3 conv": 250.0}  # n 14 -> 15 redrawn
GRID_MODELS = {  # the models whose grid change is timed, by the kind of goal
    "mnist-wide": "28x28",
    "mnist-tutorial": "28x28",
    "shapes-conv": "32x32x3 conv",
}
PLAIN_SLIDER = '[data-testid="stSlider"] input[type="range"][aria-label="z1"]'
GRID_N_INPUT = 'input[aria-label="Grid size n"]'
_JS_PLAIN_SRC = f"""() => {{
  const img = document.querySelector('{PLAIN_DIGIT_IMG}');
  return img ? img.src : null;
}}"""
_JS_PLAIN_CHANGED = f"""(old) => {{
  const img = document.querySelector('{PLAIN_DIGIT_IMG}');
  return !!img && img.src !== old && img.complete && img.naturalWidth > 0;
}}"""
# The grid of these settings is on screen, drawn by the browser or (for a model
# it decodes too slowly) by the server.
_JS_GRID_DRAWN = """(settings) => {
  const c = document.querySelector('canvas.vae-grid');
  return !!c && !!c.dataset.by && c.dataset.settings === settings;
}"""
_JS_GRID_BY = "() => document.querySelector('canvas.vae-grid').dataset.by"
_JS_GRID_SETTINGS = "() => document.querySelector('canvas.vae-grid').dataset.settings"


def _timed(page: Any, press: Callable[[], None], changed: str, old: Any) -> float:
    """Milliseconds from ``press()`` until ``changed(old)`` holds in the page."""
    start = time.perf_counter()
    press()
    page.wait_for_function(changed, arg=old, polling="raf", timeout=CHANGE_TIMEOUT_MS)
    return (time.perf_counter() - start) * 1000.0


def _slider_steps(page: Any, plain: bool, presses: int) -> list[float]:
    """``presses`` arrow keys on z1, each timed to the new image on screen."""
    slider = page.locator(PLAIN_SLIDER if plain else Z1_SLIDER)
    slider.scroll_into_view_if_needed()
    slider.focus()
    times = []
    for _ in range(presses):
        value, high = float(slider.input_value()), float(slider.get_attribute("max"))
        key = "ArrowRight" if value < high - 0.5 else "ArrowLeft"
        old = page.evaluate(_JS_PLAIN_SRC if plain else _JS_SRC)
        changed = _JS_PLAIN_CHANGED if plain else _JS_SRC_CHANGED
        times.append(_timed(page, lambda k=key: page.keyboard.press(k), changed, old))
        if plain:
            page.wait_for_timeout(300)  # the plain page's rerun has finished
    if not plain:
        page.wait_for_timeout(400)  # the settled z has reached the server
    return times


def _grid_changes(page: Any, presses: int) -> list[float]:
    """The grid's n from 14 to 15 (then back, untimed), timed to the new
    15x15 grid drawn."""
    n = page.locator(GRID_N_INPUT)
    n.scroll_into_view_if_needed()
    n.focus()
    while int(n.input_value()) != 14:
        page.keyboard.press("ArrowLeft" if int(n.input_value()) > 14 else "ArrowRight")
    page.wait_for_function(
        "() => document.querySelector('canvas.vae-grid').dataset.settings"
        ".startsWith('14|')",
        timeout=CHANGE_TIMEOUT_MS,
    )
    times = []
    for _ in range(presses):
        settings = page.evaluate(_JS_GRID_SETTINGS)
        target = "15|" + settings.split("|", 1)[1]
        times.append(
            _timed(
                page, lambda: page.keyboard.press("ArrowRight"), _JS_GRID_DRAWN, target
            )
        )
        page.keyboard.press("ArrowLeft")
        page.wait_for_function(
            _JS_GRID_DRAWN,
            arg="14|" + settings.split("|", 1)[1],
            timeout=CHANGE_TIMEOUT_MS,
        )
    return times


def _open_drawn(browser: Any, url: str, ready: str) -> Any:
    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.goto(url, timeout=SERVER_TIMEOUT_S * 1000)
    page.wait_for_selector(ready, state="attached", timeout=SERVER_TIMEOUT_S * 1000)
    return page


def draw_measures(browser: Any, tmp: Path, rounds: int, presses: int) -> list[str]:
    """Slider step -> new image, explorer against the plain page, in
    alternated rounds; and the grid's n 14 -> 15 redrawn, per model."""
    home = tmp / "draw_home"
    home.mkdir()
    servers = {
        "explorer": devserver.spawn(
            "app.py", log_path=tmp / "draw_app.log", env={"VAEAPP_HOME": str(home)}
        ),
        "plain": devserver.spawn(
            "bench/plain_page.py", log_path=tmp / "draw_plain.log"
        ),
    }
    slider: dict[str, list[float]] = {"explorer": [], "plain": []}
    per_round: list[tuple[float, float]] = []
    grid: dict[str, list[float]] = {name: [] for name in GRID_MODELS}
    drawn_by: dict[str, str] = {}
    try:
        for server in servers.values():
            devserver.wait_ready(server, SERVER_TIMEOUT_S)
        browser_drawn = 'canvas.vae-digit[data-by="browser"]'
        pages = {
            "explorer": _open_drawn(browser, servers["explorer"].url, browser_drawn),
            "plain": _open_drawn(browser, servers["plain"].url, PLAIN_DIGIT_IMG),
        }
        grid_pages = {
            name: _open_drawn(
                browser,
                f"{servers['explorer'].url}/?model={name}",
                "canvas.vae-grid[data-by]",
            )
            for name in GRID_MODELS
        }
        for r in range(rounds):
            order = ["explorer", "plain"] if r % 2 == 0 else ["plain", "explorer"]
            medians = {}
            for name in order:
                times = _slider_steps(pages[name], name == "plain", presses)
                slider[name] += times
                medians[name] = statistics.median(times)
            per_round.append((medians["explorer"], medians["plain"]))
            for name, page in grid_pages.items():
                grid[name] += _grid_changes(page, max(2, presses // 3))
                drawn_by[name] = page.evaluate(_JS_GRID_BY)
    finally:
        for server in servers.values():
            devserver.stop(server)
    ours, plain = (statistics.median(slider[n]) for n in ("explorer", "plain"))
    ratio = ours / plain
    lines = [
        f"what the browser draws, {rounds} rounds of {presses} presses (medians)",
        f"{'measure':<58} {'measured':>18}  {'goal':<8} verdict",
        _row(
            "slider step -> new image, explorer / plain page (ms)",
            f"{ours:.1f} / {plain:.1f}",
            "",
            None,
        ),
        _row(
            "  ratio",
            f"{ratio:.3f}",
            f"<= {GOAL_SLIDER_RATIO}",
            ratio <= GOAL_SLIDER_RATIO,
        ),
        "  ratios by round: " + ", ".join(f"{a / b:.3f}" for a, b in per_round),
    ]
    for name, kind in GRID_MODELS.items():
        median = statistics.median(grid[name])
        lines.append(
            _row(
                f"grid n 14 -> 15, {name} ({kind}, by {drawn_by[name]}), median ms",
                f"{median:.0f} (p95 {percentile(grid[name], 0.95):.0f})",
                f"<= {GOAL_GRID_MS[kind]:g}",
                median <= GOAL_GRID_MS[kind],
            )
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--runs", type=int, default=20, help="slider changes and map clicks (20)"
    )
    parser.add_argument(
        "--live-seconds", type=float, default=3.0, help="pointer-move time (3 s)"
    )
    parser.add_argument(
        "--grid-runs", type=int, default=50, help="grid decodes to time (50)"
    )
    parser.add_argument(
        "--net-rounds",
        type=int,
        default=5,
        help="rounds of the cold/warm first-page comparison (5; 0 skips it)",
    )
    parser.add_argument(
        "--net-only",
        action="store_true",
        help="only the first-page comparison with the plain page",
    )
    parser.add_argument(
        "--draw-rounds",
        type=int,
        default=0,
        help="rounds of the slider-step and grid timings against the plain page "
        "(0 skips them)",
    )
    parser.add_argument(
        "--draw-only", action="store_true", help="only the --draw-rounds timings"
    )
    parser.add_argument("--down-mbit", type=float, default=20.0, help="(20)")
    parser.add_argument("--up-mbit", type=float, default=5.0, help="(5)")
    parser.add_argument("--rtt-ms", type=float, default=40.0, help="(40)")
    args = parser.parse_args(argv)
    if args.draw_only and args.draw_rounds < 1:
        parser.error("--draw-only needs --draw-rounds >= 1")
    if args.net_rounds < 0 or (args.net_only and args.net_rounds < 1):
        parser.error("--net-rounds must be >= 0 (>= 1 with --net-only)")
    if args.runs < 1 or args.grid_runs < 1 or args.live_seconds <= 0:
        parser.error("--runs and --grid-runs must be >= 1, --live-seconds > 0")
    missing = browser_missing_reason()
    if missing:
        parser.error(missing)

    print(
        f"load average: {', '.join(f'{v:.1f}' for v in os.getloadavg())} "
        f"on {os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory(prefix="page_speed-") as tmp:
        with chromium() as browser:
            if args.draw_rounds:
                lines = draw_measures(browser, Path(tmp), args.draw_rounds, args.runs)
                print("\n".join(lines))
            if args.draw_only:
                return 0
            if not args.net_only:
                print("\n".join(local_measures(args, browser, Path(tmp))))
            if args.net_rounds:
                lines = compare_first_pages(
                    browser, Path(tmp), args.net_rounds, args.down_mbit * 1e6,
                    args.up_mbit * 1e6, args.rtt_ms / 1000,
                )  # fmt: skip
                print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
