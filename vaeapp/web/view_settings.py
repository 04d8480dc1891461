"""What the page and the exported file show alike: the settings of views both
draw, kept here once so that the one-file explorer
(:mod:`vaeapp.export.html_file`) cannot drift from the page (:mod:`vaeapp.ui`).

The manifold grid's own settings (its n, default q and spacings) are
:mod:`vaeapp.explore.manifold`'s; the prior samples' most,
:data:`vaeapp.explore.analysis.SAMPLES_MAX`.
"""

from __future__ import annotations

MAP_HEIGHT = 520  # px: the map's square plot area with its axes and legend
SAMPLE_COUNT_DEFAULT = 12  # prior samples drawn at first
# The Manifold grid's q control: its least and most value, and its step.
Q_MIN, Q_MAX, Q_STEP = 0.001, 0.499, 0.01
