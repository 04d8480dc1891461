"""Installed size and ``vaeapp serve`` start to first page: base install
against the full one.

Command line: ``python -m bench.install [--rounds 5]``.

Size. The dependency closure of each install (``pip install .``: pyproject's
dependencies; ``".[train]"``: with Keras and TensorFlow; ``".[train,jax]"``:
what requirements.txt installs) is resolved from the metadata of the
distributions installed in this interpreter (the versions requirements.txt
pins), and each distribution counts the bytes of the files its RECORD lists,
as they are on disk; vaeapp counts its wheel's files unpacked. Nothing is
downloaded.

Start. The wheel is built and installed in two fresh virtual environments
(:mod:`devtools.installed`): base, where Keras, TensorFlow and JAX cannot be
imported, and full, where they can. Rounds alternate the two (base, full, then
full, base, ...); each starts ``vaeapp serve`` from a folder that is not the
checkout, with an empty page folder, and times from the spawn to
``/_stcore/health`` answering and to Chromium (a new context) showing the map
and the decoded digit. Medians over the rounds.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

from devtools import installed, server
from devtools.browser import chromium

ROOT = Path(__file__).resolve().parents[1]
INSTALLS = {
    "base": (),
    "[train]": ("train",),
    "[train,jax]": ("train", "jax"),
}
PAGE_TIMEOUT_MS = 180_000


def _closure(requirements: list[Requirement]) -> set[str]:
    """Names of the installed distributions ``requirements`` pull in."""
    seen: set[str] = set()
    todo = [(req, "") for req in requirements]
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": extra}):
            continue
        name = req.name.lower().replace("_", "-")
        extras = sorted(req.extras)
        key = f"{name}[{','.join(extras)}]"
        if key in seen or name == "vaeapp":
            continue
        seen.add(key)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        for line in dist.requires or []:
            for wanted in ("", *extras):
                todo.append((Requirement(line), wanted))
    return {key.split("[")[0] for key in seen}


def _dist_bytes(name: str) -> int:
    """Bytes on disk of the files an installed distribution's RECORD lists."""
    total = 0
    for file in metadata.distribution(name).files or []:
        path = Path(file.locate())
        if path.is_file():
            total += path.stat().st_size
    return total


def sizes(wheel: Path) -> dict[str, tuple[int, int]]:
    """Per install: (number of distributions, bytes), vaeapp's own included."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    own = sum(info.file_size for info in zipfile.ZipFile(wheel).infolist())
    result = {}
    for label, extras in INSTALLS.items():
        lines = list(project["dependencies"])
        for extra in extras:
            lines += project["optional-dependencies"][extra]
        names = _closure([Requirement(line) for line in lines])
        result[label] = (len(names) + 1, own + sum(map(_dist_bytes, names)))
    return result


def start_once(venv: installed.Venv, browser, page_dir: Path) -> tuple[float, float]:
    """Seconds from spawning ``vaeapp serve`` to health, and to the first page."""
    port = server.free_port()
    log = venv.work / "serve.log"
    env = venv.env(VAEAPP_PAGE_DIR=str(page_dir))
    started = time.perf_counter()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(venv.command), "serve", "--server.port", str(port),
             "--server.address", "127.0.0.1"],
            cwd=venv.work, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    spawned = server.Server(process, f"http://127.0.0.1:{port}", log, started)
    try:
        server.wait_ready(spawned, 180)
        health = time.perf_counter() - started
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        try:
            page = context.new_page()
            page.goto(spawned.url, timeout=PAGE_TIMEOUT_MS)
            for selector in (".vae-explorer[data-drawn]", ".vae-digit"):
                page.wait_for_selector(
                    selector, state="visible", timeout=PAGE_TIMEOUT_MS
                )
            first_page = time.perf_counter() - started
        finally:
            context.close()
    finally:
        server.stop(spawned)
    return health, first_page


def main(argv: list[str] | None = None) -> None:
    """Build, install, measure; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    reason = installed.missing_reason()
    if reason:
        sys.exit(reason)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        wheel = installed.build_wheel(folder / "wheel")
        print(f"wheel: {wheel.name}, {wheel.stat().st_size / 1e6:.1f} MB")
        for label, (count, total) in sizes(wheel).items():
            print(f"installed size {label:<12} {total / 1e6:8.1f} MB  {count} dists")
        venvs = {
            kind: installed.install(
                wheel, folder / kind, folder / f"{kind}-work", kind == "base"
            )
            for kind in ("base", "full")
        }
        times: dict[str, list[tuple[float, float]]] = {kind: [] for kind in venvs}
        with chromium() as browser:
            for n in range(args.rounds):
                order = ("base", "full") if n % 2 == 0 else ("full", "base")
                for kind in order:
                    page_dir = folder / f"page-{kind}-{n}"
                    times[kind].append(start_once(venvs[kind], browser, page_dir))
                    health, first = times[kind][-1]
                    print(f"round {n + 1} {kind}: health {health:.2f} s, "
                          f"first page {first:.2f} s", flush=True)  # fmt: skip
        for kind, runs in times.items():
            health = statistics.median(run[0] for run in runs)
            first = statistics.median(run[1] for run in runs)
            print(f"{kind}: median health {health:.2f} s, first page {first:.2f} s "
                  f"({len(runs)} starts)")  # fmt: skip


if __name__ == "__main__":
    main()
