"""Training: the command (``python -m vaeapp.train``), the loop, its Keras
callbacks, the engine's start-up and choices, what a run reports, batches,
data-parallel runs, and publishing a finished run as a model folder.

Imports Keras (and TensorFlow or JAX, the backend) inside the functions that
train, so that ``--help`` and the checks of options stay fast; the modules
that import Keras at their top (:mod:`vaeapp.train.callbacks`,
:mod:`vaeapp.train.batches`) are imported only there. Imports any layer below
:mod:`vaeapp.ui`.
"""
