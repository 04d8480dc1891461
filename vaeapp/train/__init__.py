"""Training: the command (``python -m vaeapp.train``), the loop, batches,
data-parallel runs, and publishing a finished run as a model folder.

Imports Keras (and TensorFlow or JAX, the backend) inside the functions that
train, so that ``--help`` and the checks of options stay fast; and any layer
below :mod:`vaeapp.ui`.
"""
