"""What every layer uses: the settings (:mod:`~vaeapp.core.config`, the one
source of every option), the command-line options made from them, checks of
outside text, JSON and latent points.

Imports nothing from the rest of vaeapp.
"""
