"""The explorer component's JavaScript, and its static file.

Kept apart from :mod:`vaeapp.ui.components.latent_map` (which imports NumPy) so that
:mod:`vaeapp.ui.map_loader`, mounted before the page's imports, can have the
browser fetch this script at the same time as the map library's: on a first visit the
explorer's first render then does not wait for a download of its own.
"""

from __future__ import annotations

import json

from vaeapp.ui import static_files
from vaeapp.web import files

# decoder.js (the decoder in the browser), decoder_file.js (fetchBytes: one
# download per URL for the whole page), map_common.js, plane_rules.js (a
# stored plane's rules, the server's own) and scatter_map.js (the
# WebGL map, shared with the exported one-file explorer,
# vaeapp/export/html_file.py) define the functions latent_map.js uses.
MODULE_JS = "\n".join(
    files.read(path)
    for path in (
        files.DECODER_JS,
        files.DECODER_FILE_JS,
        files.MAP_COMMON_JS,
        files.PLANE_RULES_JS,
        files.SCATTER_MAP_JS,
        files.LATENT_MAP_JS,
    )
)
# The map's stylesheet, likewise shared with the exported file.
CSS = files.read(files.LATENT_MAP_CSS)

# The component's script when MODULE_JS is a static file: imports it (once; the
# browser keeps the module) and hands each render over to it.
_STUB_JS = """const MODULE = new URL(URL_JSON, document.baseURI).href;
export default function (component) {
  import(MODULE).then((module) => module.default(component));
}
"""


def module_url() -> str | None:
    """The URL of MODULE_JS as a static file (written if need be), or None
    without static serving."""
    return static_files.publish("explorer", MODULE_JS.encode("utf-8"), "js")


def component_js() -> str:
    """The component's JavaScript: a stub of a few hundred bytes importing
    :func:`module_url`, or all of MODULE_JS without static serving."""
    url = module_url()
    return _STUB_JS.replace("URL_JSON", json.dumps(url)) if url else MODULE_JS
