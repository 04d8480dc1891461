"""Refresh docs/screenshot.png from a running app.

    streamlit run app.py --server.port 8599 --server.headless true &
    python docs/screenshot.py [URL]    # default http://localhost:8599

A 1400x900 page in Debian's Chromium, taken once the map and the decoded digit
are drawn, saved as a 128-colour PNG.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

OUT = Path(__file__).with_name("screenshot.png")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
]


def main(url: str = "http://localhost:8599") -> None:
    from PIL import Image
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url)
        page.wait_for_selector(".vae-map .main-svg", timeout=60_000)
        page.wait_for_selector("canvas.vae-digit[data-z]", timeout=60_000)
        page.wait_for_timeout(4000)
        png = page.screenshot()
        browser.close()
    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(OUT, optimize=True)
    print(OUT, OUT.stat().st_size, "bytes")


if __name__ == "__main__":
    main(*sys.argv[1:2])
