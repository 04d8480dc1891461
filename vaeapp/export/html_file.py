"""An explorer of one model in one HTML file that works with no server.

The file (``python -m vaeapp.export``, :mod:`vaeapp.export.command`) is a page
that opens straight from disk (``file://``) with the network off: the latent
map of the encoded test set with its legend (or, for a set with known factors,
a colour scale by a chosen factor), the image under the pointer decoded live,
a click or two sliders to select z in the map's plane, the manifold grid
decoded in the browser with its n, q and spacing controls, prior samples, and
the model's facts. The map is the page's WebGL map: pan and zoom, lasso and
box (counted in the file), colour by class, factor, the stored per-image
figures or density, search by index or class, and for up to IMAGES_MAX
points the real test image under the pointer. The page's browser code is
reused, not copied: the file holds regl-scatterplot's vendored bundle,
``vaeapp/web/decoder.js``, ``vaeapp/web/map_common.js``,
``vaeapp/web/plane_rules.js``, ``vaeapp/web/scatter_map.js`` and
``vaeapp/web/latent_map.css`` verbatim, read from the same files the page
serves, plus ``vaeapp/web/export_page.js`` (the controls around the map) in
``vaeapp/web/export_template.html``. The model's data is
:func:`vaeapp.web.assets.pack_model`'s base64 JSON, as the page sends it
without static serving: the decoder's kernels as float16, the map points as
float32, the figures (and on a stored plane its anchors' latent means); the
test images gzip-compressed; no encoder.

The map shows a plane of the latent space (:mod:`vaeapp.explore.projection`): the
model's two dimensions for a 2-D model; for more, by default the folder's
stored UMAP plane (``--plane umap``) when it has one, else the plane of the
first two principal components of the encoded test set, with the other
directions held at the test set's mean encoding (``--plane pca``), or two
chosen dimensions with the others at 0 (``--plane 1,2``). On a linear plane
every z the file selects lies in that plane; on the UMAP plane a position
selects z by the page's own rule (``plane_rules.js``: a test image's mean, or
the distance-weighted mean of its nearest ones), and the grid varies the PCA
plane.
"""

from __future__ import annotations

import base64
import gzip
import html
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from vaeapp.explore.analysis import SAMPLES_MAX
from vaeapp.explore.facts import model_facts
from vaeapp.explore.manifold import (
    GRID_N_DEFAULT,
    GRID_N_MAX,
    GRID_Q_DEFAULT,
    PRIOR_SPACINGS,
)
from vaeapp.explore.projection import (
    NEIGHBOURS,
    PLACE_NEIGHBOURS,
    UMAP,
    Plane,
    StoredPlane,
    axes_plane,
    map_extent,
    pca_plane,
    stored_plane,
)
from vaeapp.store.records import LoadedModel
from vaeapp.web import files
from vaeapp.web.assets import pack_model
from vaeapp.web.view_settings import (
    MAP_HEIGHT,
    Q_MAX,
    Q_MIN,
    Q_STEP,
    SAMPLE_COUNT_DEFAULT,
)

# The same files the page serves (vaeapp.web.files): the WebGL map
# (scatter_map.js on regl-scatterplot) with map_common.js's shared helpers.
SCATTER_JS = files.SCATTERPLOT_JS
DECODER_JS = files.DECODER_JS
MAP_JS = files.MAP_COMMON_JS
RULES_JS = files.PLANE_RULES_JS
SCATTER_MAP_JS = files.SCATTER_MAP_JS
MAP_CSS = files.LATENT_MAP_CSS
PAGE_JS = files.EXPORT_PAGE_JS
TEMPLATE = files.EXPORT_TEMPLATE

PCA_PLANE = "pca"
# Files of up to this many test images carry them (gzip, base64): the real
# image under the pointer. mnist-deep's 10,000 add 2.1 MB.
IMAGES_MAX = 10_000
_PLACEHOLDER = re.compile(r"\{\{([A-Z_]+)\}\}")
# What a script's text must not hold inside <script>: the HTML parser would
# end the element there (or enter the double-escaped state).
_SCRIPT_BREAKERS = ("</script", "<!--")


def export_plane(model: LoadedModel, plane: str | None = None) -> Plane | StoredPlane:
    """The plane the file's map shows: ``None`` for the default (a 2-D model's
    own plane; above two, the stored UMAP plane if the folder has one, else
    PCA), ``"umap"``, ``"pca"``, or two 1-based dimensions ``"i,j"``.

    PCA and UMAP need more than two latent dimensions (with two, the plane is
    the space itself, and the map shows it as z1, z2); ``"umap"`` raises
    ValueError for a folder that stores no such plane."""
    latent_dim = model.record.model.latent_dim
    if plane is None:
        stored = UMAP in model.planes
        plane = "1,2" if latent_dim == 2 else UMAP if stored else PCA_PLANE
    if plane in (PCA_PLANE, UMAP):
        if latent_dim == 2:
            raise ValueError(f"--plane {plane} needs more than two latent dimensions")
        if plane == UMAP:
            return stored_plane(model, UMAP)
        return pca_plane(model.latent_mean)
    match = re.fullmatch(r"\s*(\d+)\s*,\s*(\d+)\s*", plane)
    if not match:
        raise ValueError(
            f"plane must be 'umap', 'pca' or two dimensions as 'i,j' (1 to "
            f"{latent_dim}), got {plane!r}"
        )
    i, j = int(match[1]) - 1, int(match[2]) - 1
    return axes_plane(latent_dim, (i, j))


def colour_factors(model: LoadedModel) -> list[int]:
    """The factors the map can be coloured by on a scale: each known factor
    that is not the class itself (the rule of the page's "Colour the map by",
    ``vaeapp.ui.views.explorer.scale_factors``)."""
    if model.factors is None or not model.factor_names:
        return []
    return [
        f
        for f in range(model.factors.shape[1])
        if not np.array_equal(model.factors[:, f], model.labels)
    ]


def plane_note(model: LoadedModel, plane: Plane | StoredPlane) -> str:
    """One sentence saying what the map shows and where the rest of z is held."""
    latent_dim = model.record.model.latent_dim
    if isinstance(plane, StoredPlane):
        return (
            f"The map shows the {plane.key.upper()} plane stored with the model, a "
            "nonlinear map of the encoded test set: a position on a test image "
            "selects its mean encoding, elsewhere the distance-weighted mean of "
            f"the encodings of its {NEIGHBOURS} nearest test images. The grid "
            "varies the first two principal components, the other directions "
            "held at the test set's mean encoding."
        )
    limit = map_extent(plane, model.latent_mean, model.z_limit)
    if latent_dim == 2:
        return (
            f"The map shows the latent space (z1, z2) over ±{limit:g}, where "
            "every test image's encoding lies."
        )
    if plane.key == PCA_PLANE:
        return (
            f"The map shows the plane of the first two principal components of the "
            f"encoded test set; the other {latent_dim - 2} directions are held at "
            "the test set's mean encoding."
        )
    x, y = plane.titles
    return f"The map shows {x} and {y}; the other dimensions are held at 0."


def export_data(model: LoadedModel, plane: Plane | StoredPlane) -> dict[str, Any]:
    """Everything the file's script reads, JSON-ready.

    ``assets`` is :func:`~vaeapp.web.assets.pack_model`'s dict with the
    map points ``(n_test, 2)`` on ``plane``; ``plane`` has ``centre``, ``u``
    and ``v`` ``(latent_dim,)`` (z = centre + x u + y v) and the axis
    ``titles`` of the linear plane the map shows, or on a stored plane the
    PCA plane the grid varies; a stored plane adds ``stored`` (its ``key``,
    ``titles``, ``pick_radius``, ``neighbours`` and ``place_neighbours``,
    what plane_rules.js
    reads beside the anchors in ``assets``); ``colour_factors`` lists
    ``[index, name]`` of the factors the map can be coloured by; ``images``
    is the test images as gzip then base64 (uint8, ``(n_test, h * w * c)``
    row-major), for up to IMAGES_MAX of them, else None with
    ``images_note`` saying why.
    """
    points = plane.coords(model.latent_mean).astype(np.float32)
    names = model.factor_names or ()
    if isinstance(plane, StoredPlane):
        linear, axis_range = pca_plane(model.latent_mean), plane.axis_range()
        rows, _, means = plane.anchors()
        anchors = (None if rows.size == points.shape[0] else rows, means)
        stored = {
            "key": plane.key,
            "titles": list(plane.titles),
            "pick_radius": plane.pick_radius(),
            "neighbours": NEIGHBOURS,
            "place_neighbours": PLACE_NEIGHBOURS,
        }
    else:
        limit = map_extent(plane, model.latent_mean, model.z_limit)
        linear, axis_range, anchors, stored = plane, (-limit, limit), None, None
    return {
        "assets": pack_model(model, points, anchors),
        "plane": {
            "centre": linear.centre.tolist(),
            "u": linear.u.tolist(),
            "v": linear.v.tolist(),
            "titles": list(linear.titles),
        },
        "stored": stored,
        "range": list(axis_range),
        "height": MAP_HEIGHT,
        "colour_factors": [[f, names[f]] for f in colour_factors(model)],
        "grid": {
            "n": GRID_N_DEFAULT,
            "n_max": GRID_N_MAX,
            "q": GRID_Q_DEFAULT,
            "q_min": Q_MIN,
            "q_max": Q_MAX,
            "q_step": Q_STEP,
            "spacings": list(PRIOR_SPACINGS),
        },
        "samples": {"count": SAMPLE_COUNT_DEFAULT, "max": SAMPLES_MAX},
        **_images(model),
    }


def _images(model: LoadedModel) -> dict[str, Any]:
    """``images`` (gzip + base64) and ``images_note`` for :func:`export_data`."""
    count = model.latent_mean.shape[0]
    if model.test_images is None:
        return {"images": None, "images_note": "the model folder holds no test images"}
    if count > IMAGES_MAX:
        note = f"a file carries the images of at most {IMAGES_MAX:,} test points"
        return {"images": None, "images_note": note}
    if not model.stored_all_images:
        note = "the model folder stores the images of only some of its test points"
        return {"images": None, "images_note": note}
    raw = np.ascontiguousarray(model.test_images, np.uint8).tobytes()
    packed = gzip.compress(raw, compresslevel=9, mtime=0)
    return {"images": base64.b64encode(packed).decode("ascii"), "images_note": None}


def script_json(data: Any) -> str:
    """``data`` as JSON safe inside a ``<script>`` element: ``<``, ``>`` and
    ``&`` as ``\\u`` escapes, so that no text from a model folder (class
    names) can end the element or start markup; JSON.parse reads them back."""
    text = json.dumps(data, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def script_text(path: Path) -> str:
    """A script's text to place verbatim inside ``<script>``; raises
    ValueError if it holds what would end the element early."""
    text = path.read_text(encoding="utf-8")
    lowered = text.lower()
    for breaker in _SCRIPT_BREAKERS:
        if breaker in lowered:
            raise ValueError(f"{path.name} contains {breaker!r}: cannot be inlined")
    return text


def _facts_html(model: LoadedModel, plane: Plane | StoredPlane) -> str:
    """The facts as ``<dt>``/``<dd>`` rows, every value escaped (model folders
    are outside input)."""
    facts = dict(model_facts(model))
    count = model.latent_mean.shape[0]
    facts["Map"] = f"{count:,} test images. {plane_note(model, plane)}"
    return "\n".join(
        f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in facts.items()
    )


def export_html(model: LoadedModel, plane: str | None = None) -> str:
    """The whole self-contained HTML file for ``model`` (see the module's
    docstring); ``plane`` as :func:`export_plane` takes it."""
    shown = export_plane(model, plane)
    name = html.escape(model.record.name)
    values = {
        "TITLE": f"{name} · VAE latent explorer",
        "NAME": name,
        "FACTS": _facts_html(model, shown),
        "MAP_CSS": MAP_CSS.read_text(encoding="utf-8"),
        "DATA": script_json(export_data(model, shown)),
        "SCATTER_JS": script_text(SCATTER_JS),
        "DECODER_JS": script_text(DECODER_JS),
        "MAP_JS": script_text(MAP_JS),
        "RULES_JS": script_text(RULES_JS),
        "SCATTER_MAP_JS": script_text(SCATTER_MAP_JS),
        "PAGE_JS": script_text(PAGE_JS),
    }
    template = TEMPLATE.read_text(encoding="utf-8")
    # One pass over the template: text put in is never scanned for placeholders.
    return _PLACEHOLDER.sub(lambda m: values[m[1]], template)


def write_export(model: LoadedModel, out: Path, plane: str | None = None) -> int:
    """Write :func:`export_html` to ``out`` (a new ``.html`` file or one to
    replace); returns its size in bytes."""
    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"the output file must end in .html, got {out.name!r}")
    if out.is_dir():
        raise ValueError(f"{out} is a folder; give a file name ending in .html")
    if not out.parent.is_dir():
        raise ValueError(f"no folder {out.parent} to write {out.name} into")
    data = export_html(model, plane).encode("utf-8")
    out.write_bytes(data)
    return len(data)
