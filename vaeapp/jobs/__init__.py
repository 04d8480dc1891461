"""Training runs that the page starts: one at a time per models folder, in a
subprocess of ``python -m vaeapp.train``, followed through a progress file
(:mod:`~vaeapp.jobs.progress`) that the run writes.

Imports :mod:`vaeapp.store` and the layers below it; never the training
code itself (the run is another process).
"""
