"""The tools below the map, one tab and one module each: the person's own
picture (:mod:`~vaeapp.ui.tools.own_picture`), interpolation and its animation
(:mod:`~vaeapp.ui.tools.interpolation`), an axis sweep
(:mod:`~vaeapp.ui.tools.sweep`), neighbours (:mod:`~vaeapp.ui.tools.neighbours`),
prior samples (:mod:`~vaeapp.ui.tools.samples`), training curves
(:mod:`~vaeapp.ui.tools.curves`), per-dimension KL
(:mod:`~vaeapp.ui.tools.dimensions`) and the model download
(:mod:`~vaeapp.ui.tools.download`).

Beside them: :mod:`~vaeapp.ui.tools.shared` (what several tools use: image
strips, the animated GIF, what a tool's change redraws),
:mod:`~vaeapp.ui.tools.paths` (the interpolation or sweep drawn on the map),
:mod:`~vaeapp.ui.tools.registry` (the tabs, in order) and
:mod:`~vaeapp.ui.tools.section` (the tab bar, one fragment).

To add a tool: a module here with a function ``(model: LoadedModel) -> None``
that draws the tab's content (widget keys in :class:`vaeapp.ui.state.K`, what
it computes in :mod:`vaeapp.explore`, tested without Streamlit), and one line
``Tool("Tab label", function)`` in ``TOOLS`` (:mod:`~vaeapp.ui.tools.registry`)
where its tab should stand. Import names from the module that defines them:
this package re-exports nothing.
"""
