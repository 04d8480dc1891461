"""The Streamlit page: the script Streamlit runs (:mod:`~vaeapp.ui.start`),
the page's state (:mod:`~vaeapp.ui.state`), its views, the sidebar, the tools
below the map, and the custom components that wrap the browser's files
(:mod:`vaeapp.web`).

The only package that imports Streamlit; never the training code, Keras,
TensorFlow or JAX.
"""
