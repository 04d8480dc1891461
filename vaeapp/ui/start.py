"""The script Streamlit runs: the map library's loader first, then the page."""

from __future__ import annotations

from vaeapp.ui import rerun_order
from vaeapp.ui.map_loader import map_loader


def run() -> None:
    """Mount the map library's loader, then import and draw the page.

    The page's modules (NumPy, the model store, the views) are imported only
    after the loader's message has gone out, so that the browser evaluates
    the library while they load: the first page comes sooner.
    """
    rerun_order.install()
    map_loader()
    from vaeapp.ui.page import main

    main()
