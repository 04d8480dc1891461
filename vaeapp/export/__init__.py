"""The one-file explorer: a model's map, live decoder, grid and facts in one
HTML file that opens from disk with no server (:mod:`~vaeapp.export.html_file`),
and its command (``python -m vaeapp.export``).

Imports :mod:`vaeapp.explore`, :mod:`vaeapp.web` and the layers below them;
never Streamlit.
"""
