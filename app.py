"""Entry point: ``streamlit run app.py``. All the work lives in :mod:`vaeapp`."""

from vaeapp.ui.page import main

main()
