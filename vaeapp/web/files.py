"""The browser's files, kept in this folder: one path each, for the page
(:mod:`vaeapp.ui`) and the exported one-file explorer (:mod:`vaeapp.export`)
alike, so that both send the same scripts."""

from __future__ import annotations

from pathlib import Path

WEB_DIR = Path(__file__).resolve().parent

DECODER_JS = WEB_DIR / "decoder.js"  # the decoder, run in the browser
MAP_COMMON_JS = WEB_DIR / "map_common.js"  # the map's shared helpers, page and export
SCATTER_MAP_JS = WEB_DIR / "scatter_map.js"  # the WebGL map of any size
PLANE_RULES_JS = WEB_DIR / "plane_rules.js"  # a stored (UMAP) plane <-> z
# regl-scatterplot with its dependencies, built by vendor/build_scatterplot.sh.
SCATTERPLOT_JS = WEB_DIR / "vendor" / "regl-scatterplot-1.16.0.min.js"
LATENT_MAP_JS = WEB_DIR / "latent_map.js"  # the page's map component
LATENT_MAP_CSS = WEB_DIR / "latent_map.css"  # the map's stylesheet, likewise
IMAGE_VIEW_JS = WEB_DIR / "image_view.js"
DRAW_PAD_JS = WEB_DIR / "draw_pad.js"
GRID_PICTURE_JS = WEB_DIR / "grid_picture.js"  # the grid, decoded in the browser
GRID_PICTURE_CSS = WEB_DIR / "grid_picture.css"
DECODER_FILE_JS = WEB_DIR / "decoder_file.js"  # a component's decoder, loaded
FRAMES_PLAYER_JS = WEB_DIR / "frames_player.js"  # strips and animations
FRAMES_PLAYER_CSS = WEB_DIR / "frames_player.css"
Z_SLIDERS_JS = WEB_DIR / "z_sliders.js"  # the z sliders and the selected image
Z_SLIDERS_CSS = WEB_DIR / "z_sliders.css"
PAGE_CSS = WEB_DIR / "page.css"
EXPORT_PAGE_JS = WEB_DIR / "export_page.js"
EXPORT_TEMPLATE = WEB_DIR / "export_template.html"


def read(path: Path) -> str:
    """The text of one of these files (UTF-8)."""
    return path.read_text(encoding="utf-8")
