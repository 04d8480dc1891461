"""Model folders on disk: their format, reading with every check, atomic
writing, listing, the bounded models folder and model zips uploaded to the
page.

Imports :mod:`vaeapp.inference`, :mod:`vaeapp.data` and :mod:`vaeapp.core`.
"""
