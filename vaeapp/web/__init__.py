"""What runs in the browser: the JavaScript, CSS and HTML of the map, the
decoder and the exported page, the vendored regl-scatterplot (``vendor/``, with
how it was built), a model packed small for them
(:mod:`~vaeapp.web.assets`), the test images in chunks for the pointer
(:mod:`~vaeapp.web.image_chunks`), and the view settings the page and the exported
file share (:mod:`~vaeapp.web.view_settings`).

Imports :mod:`vaeapp.store` and the layers below it; never Streamlit.
"""
