"""Streamlit components of the page, each the Python side of a script in
:mod:`vaeapp.web`: the latent map, an image view, the drawing pad and the
clickable grid picture."""
