"""Load test: concurrent real browser sessions on one server while one retrains.

    python bench/load_test.py --data ../shared/data/mnist.npz [--sessions 10]
        [--seconds 60]

Starts ``streamlit run app.py`` on a free port (models written to a temporary
``VAEAPP_HOME``), opens N Playwright pages in Debian's Chromium that move the
pointer over the pad, press slider keys and click the map for the given time,
while the first session starts a retrain from the sidebar. Prints failed
sessions, exceptions in the server log, non-finite decodes, slider-to-digit
latency (median, p95) and the server's memory growth. Not part of the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from vaeapp import devserver  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
]
DIGIT = "img.vae-digit"  # the explorer's decoded digit
# Streamlit 1.67 sliders: a hidden <input type="range" aria-label="z1">.
SLIDER = '[data-testid="stSlider"] input[type="range"][aria-label="{}"]'


@dataclass
class Session:
    """What one browser session saw."""

    index: int
    latencies_ms: list[float] = field(default_factory=list)
    actions: int = 0
    live_decodes: int = 0
    nonfinite: int = 0
    errors: list[str] = field(default_factory=list)


def rss_kb(pid: int) -> int:
    """Resident memory of ``pid`` in kB (0 if unreadable)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


async def start_retrain(page) -> None:
    """Open the sidebar's Retrain expander, set a short run on 10,000 images
    and submit the form."""
    sidebar = page.locator('[data-testid="stSidebar"]')
    await sidebar.locator('[data-testid="stExpander"] summary').click()
    epochs = sidebar.get_by_label("Epochs")
    await epochs.fill("3")
    form = sidebar.locator('[data-testid="stForm"]')
    await form.get_by_role("button", name="Retrain").click()


async def slider_change(page, session: Session) -> None:
    """One arrow key on z1 or z2, timed until the new digit is on screen."""
    before = await page.get_attribute(DIGIT, "data-z")
    dim = random.choice([0, 1])
    slider = page.locator(SLIDER.format(f"z{dim + 1}"))
    if await slider.count() != 1:
        # Mid-rerun after a model switch, the old sliders are still shown.
        await asyncio.sleep(0.2)
        return
    value, low, high, step = [
        float(await slider.get_attribute(name))
        for name in ("value", "min", "max", "step")
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
    await slider.focus()
    start = time.perf_counter()
    await page.keyboard.press(random.choice(keys))
    await page.wait_for_function(
        "(old) => { const i = document.querySelector('img.vae-digit');"
        " return i && i.dataset.z !== old && i.complete; }",
        arg=before,
        timeout=15000,
    )
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
    try:
        await page.goto(url, timeout=60000)
        await page.wait_for_selector(".vae-map .nsewdrag", timeout=60000)
        await page.wait_for_selector(DIGIT, timeout=60000)
        if retrain:
            await start_retrain(page)
        box = await page.locator(".vae-map .nsewdrag").bounding_box()
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
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        results = [Session(i) for i in range(sessions)]
        await asyncio.gather(
            *(
                run_session(browser, url, s, seconds, retrain=(s.index == 0))
                for s in results
            )
        )
        await browser.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="MNIST .npz for the retrain")
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(
            f"error: {CHROMIUM} not found (apt-get install chromium)", file=sys.stderr
        )
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        env = {
            "VAEAPP_HOME": str(Path(tmp) / "models"),
            "VAEAPP_MNIST_DATA": str(Path(args.data).resolve()),
        }
        with devserver.running("app.py", log_path=log, env=env) as server:
            url = f"{server.url}/"
            urllib.request.urlopen(url, timeout=30).read()
            rss_start = rss_kb(server.process.pid)
            started = time.monotonic()
            results = asyncio.run(drive(url, args.sessions, args.seconds))
            elapsed = time.monotonic() - started
            rss_end = rss_kb(server.process.pid)
        text = log.read_text(errors="replace")
        trained = [p.name for p in (Path(tmp) / "models").glob("mnist-*")]
    latencies = sorted(ms for s in results for ms in s.latencies_ms)
    failed = [s for s in results if s.errors]
    print(f"sessions: {len(results)}, each {args.seconds:.0f} s (wall {elapsed:.0f} s)")
    print(f"failed sessions: {len(failed)}")
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
    return 0 if not failed and "Traceback" not in text else 1


if __name__ == "__main__":
    sys.exit(main())
