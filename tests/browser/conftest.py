"""Fixtures for the browser tests: a real ``streamlit run app.py`` and Chromium.

The server is started once per test session on a free localhost port
(:mod:`devtools.server`), with
``VAEAPP_HOME`` pointing into pytest's temporary folder (so models trained
elsewhere never show up), and killed at the end. The tests drive Debian's
Chromium through Playwright's sync API; Playwright's own browser download is
not used. Without ``/usr/bin/chromium`` or the ``playwright`` package the tests
are skipped.

The page takes several seconds to load (the map's library and the model are
sent to the browser once per session), so the tests share one page, in file order; each
test is written so that it does not depend on what the previous ones did.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SERVER_START_TIMEOUT_S = 90.0

if str(REPO) not in sys.path:  # the tests read app defaults from vaeapp
    sys.path.insert(0, str(REPO))

from page_selectors import (  # noqa: E402
    DIGIT_IMG,
    GRID_IMG,
    LIVE_READY,
    MAP_DRAWN,
    PAGE_LOAD_TIMEOUT_MS,
    VIEWPORT,
)

from devtools import server as devserver  # noqa: E402
from devtools.browser import browser_missing_reason  # noqa: E402

_SCREENSHOTS: list[Path] = []


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``streamlit run app.py`` on a free port; yields its URL, stops it at the end."""
    reason = browser_missing_reason()
    if reason:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("streamlit")
    home = folder / "vaeapp_home"
    home.mkdir()
    server = devserver.spawn(
        "app.py", log_path=folder / "server.log", env={"VAEAPP_HOME": str(home)}
    )
    try:
        try:
            devserver.wait_ready(server, SERVER_START_TIMEOUT_S, page=True)
        except devserver.ServerError as error:
            pytest.fail(str(error))
        yield server.url
    finally:
        devserver.stop(server)


@pytest.fixture(scope="module")
def app_page(browser: Any, server_url: str) -> Iterator[Any]:
    """The app, loaded once per module, with map, digit and grid visible and
    the live decoder ready.

    ``page.errors`` collects uncaught JavaScript errors.
    """
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.set_default_timeout(30_000)
    page.goto(server_url, timeout=PAGE_LOAD_TIMEOUT_MS)
    for selector in (MAP_DRAWN, DIGIT_IMG, GRID_IMG):
        page.wait_for_selector(selector, state="visible", timeout=PAGE_LOAD_TIMEOUT_MS)
    # The decoder's weights arrive after the map is drawn: live previews wait.
    page.wait_for_selector(LIVE_READY, state="attached", timeout=PAGE_LOAD_TIMEOUT_MS)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def page(
    app_page: Any, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Any]:
    """The shared app page; a full-page screenshot is saved in ``tmp_path``
    after the test, passed or failed."""
    yield app_page
    path = tmp_path / f"{request.node.name}.png"
    try:
        app_page.screenshot(path=str(path), full_page=True)
    except Exception as error:  # noqa: BLE001 - a screenshot must not hide the result
        print(f"screenshot failed: {error}")
        return
    _SCREENSHOTS.append(path)
    request.node.user_properties.append(("screenshot", str(path)))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """List the screenshots the browser tests saved."""
    if _SCREENSHOTS:
        terminalreporter.write_sep("-", "browser screenshots")
        for path in _SCREENSHOTS:
            terminalreporter.write_line(str(path))
