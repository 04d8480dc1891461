"""The script Streamlit runs: Plotly's loader first, then the page."""

from __future__ import annotations

from vaeapp.ui import rerun_order
from vaeapp.ui.plotly_loader import plotly_loader


def run() -> None:
    """Mount Plotly's loader, then import and draw the page.

    The page's modules (NumPy, the model store, the views) are imported only
    after the loader's message has gone out, so that the browser evaluates
    Plotly while they load: the first page comes sooner.
    """
    rerun_order.install()
    plotly_loader()
    from vaeapp.ui.page import main

    main()
