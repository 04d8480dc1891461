"""Settings shared by every kind of test.

Hypothesis runs derandomized: the property tests draw the same examples on every
run, so a CI result depends on the code, not on the seed of the day. Examples
that once failed are pinned with ``@example`` beside their test.
"""

import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import settings

from devtools.browser import browser_missing_reason, chromium

settings.register_profile("vaeapp", derandomize=True, database=None, deadline=None)
settings.load_profile("vaeapp")


@pytest.fixture(scope="session", autouse=True)
def _folder_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Image folders' caches go to a temporary folder, not the user's home
    (commands the tests start inherit it)."""
    saved = os.environ.get("VAEAPP_CACHE_DIR")
    os.environ["VAEAPP_CACHE_DIR"] = str(tmp_path_factory.mktemp("vaeapp-cache"))
    yield
    if saved is None:
        os.environ.pop("VAEAPP_CACHE_DIR", None)
    else:
        os.environ["VAEAPP_CACHE_DIR"] = saved


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright, one for the whole run
    (Playwright's sync API cannot be started twice at once)."""
    reason = browser_missing_reason()
    if reason:
        pytest.skip(reason)
    with chromium() as launched:
        yield launched
