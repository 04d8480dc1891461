"""Entry point: ``streamlit run app.py``. All the work lives in :mod:`vaeapp`."""

from vaeapp.ui.start import run

run()
