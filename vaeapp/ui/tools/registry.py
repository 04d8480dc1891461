"""The tool tabs, in the order the tab bar shows them: one entry per tool,
a label and the function that draws its tab. Adding a tool is a module in
this package and one line here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vaeapp.store.records import LoadedModel
from vaeapp.ui.tools.curves import curves_tool
from vaeapp.ui.tools.dimensions import dimensions_tool
from vaeapp.ui.tools.download import download_tool
from vaeapp.ui.tools.interpolation import interpolation_tool
from vaeapp.ui.tools.neighbours import neighbours_tool
from vaeapp.ui.tools.own_picture import own_picture_tool
from vaeapp.ui.tools.samples import samples_tool
from vaeapp.ui.tools.sweep import sweep_tool


@dataclass(frozen=True)
class Tool:
    """One tab: its ``label`` (also the value the tab bar remembers as the
    open tab, so unique and kept once people may have it open) and ``draw``,
    which draws the tab's content for the model shown."""

    label: str
    draw: Callable[[LoadedModel], None]


TOOLS: tuple[Tool, ...] = (
    Tool("Encode your image", own_picture_tool),
    Tool("Interpolate", interpolation_tool),
    Tool("Sweep an axis", sweep_tool),
    Tool("Neighbours", neighbours_tool),
    Tool("Sample", samples_tool),
    Tool("Training curves", curves_tool),
    Tool("Latent dimensions", dimensions_tool),
    Tool("Download model", download_tool),
)
