"""The server's memory per page session with a big model: is the model held
once for all sessions, or once per session?

Command line: ``python -m bench.session_memory [--points 1000000]
[--latent-dim 16] [--sessions 5] [--work DIR]``.

Writes :mod:`devtools.big_model`'s folder of ``--points`` held-out points
(the pixels of the first 10,000 stored, the rest in a data cache, as a
model trained on an own image folder keeps them) under ``--work``, unless it
is there already; starts ``streamlit run app.py`` with that folder as the
only model; then opens ``--sessions`` pages one after another in headless
Chromium, each in a context of its own (a session of its own), each waiting
until its map is drawn and the page has settled. Prints the server
process's resident memory (``VmRSS``) before any page, after each session,
the increase per session after the first (what one more visitor costs), and
the model folder's size on disk.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from devtools.browser import chromium
from devtools.server import running

ROOT = Path(__file__).resolve().parents[1]
MODEL = "big"
STORED = 10_000
MAP_DRAWN = ".vae-explorer[data-drawn] .vae-gl-canvas"
PAGE_TIMEOUT_MS = 600_000
SETTLE_S = 3.0  # after the map is drawn: the page's last runs finish


def resident_mb(pid: int) -> float:
    """The resident memory of process ``pid`` in MB (its ``VmRSS``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise ValueError(f"process {pid} reports no VmRSS")


def folder_mb(folder: Path) -> float:
    """The bytes of every file under ``folder``, in MB."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def write_model(work: Path, points: int, latent_dim: int) -> Path:
    """devtools.big_model's folder under ``work/home``, made once."""
    folder = work / "home" / MODEL
    if not (folder / "config.json").exists():
        command = [sys.executable, "-m", "devtools.big_model", "--out", str(folder)]
        command += ["--points", str(points), "--latent-dim", str(latent_dim)]
        command += ["--stored", str(STORED), "--cache-root", str(work / "cache")]
        subprocess.run(command, cwd=ROOT, check=True)
    return folder


def open_session(browser: object, url: str) -> tuple[object, float]:
    """A page of its own at ``url``; returns it and the seconds until its map
    was drawn."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    started = time.perf_counter()
    page.goto(url, timeout=PAGE_TIMEOUT_MS)
    page.wait_for_selector(MAP_DRAWN, state="visible", timeout=PAGE_TIMEOUT_MS)
    drawn = time.perf_counter() - started
    time.sleep(SETTLE_S)
    return page, drawn


def main(argv: list[str] | None = None) -> None:
    """Parse the options, open the sessions, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--work", type=Path, default=None, help="kept between runs")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="vaeapp-session-memory-"))
    folder = write_model(work, args.points, args.latent_dim)
    env = {"VAEAPP_HOME": str(folder.parent), "VAEAPP_CACHE_DIR": str(work / "cache")}
    with running(log_path=work / "server.log", env=env) as server:
        pid = server.process.pid
        before = resident_mb(pid)
        print(
            f"{args.points:,} points, {args.latent_dim} dimensions; folder "
            f"{folder_mb(folder):.1f} MB; server before any page {before:.0f} MB"
        )
        sizes, pages = [], []
        with chromium() as browser:
            for number in range(1, args.sessions + 1):
                page, drawn = open_session(browser, f"{server.url}?model={MODEL}")
                pages.append(page)
                sizes.append(resident_mb(pid))
                print(
                    f"  session {number}: map drawn in {drawn:.1f} s; "
                    f"server {sizes[-1]:.0f} MB"
                )
        steps = [b - a for a, b in zip(sizes, sizes[1:], strict=False)]
        print(
            f"first session +{sizes[0] - before:.0f} MB; each further session: "
            f"median +{statistics.median(steps):.0f} MB "
            f"(range {min(steps):.0f} to {max(steps):.0f})"
            if steps
            else ""
        )


if __name__ == "__main__":
    main()
