"""The VAE as a Keras model (:mod:`~vaeapp.model.vae`, for training) and the
layout of its weights (:mod:`~vaeapp.model.layout`, shared with the NumPy
twin in :mod:`vaeapp.inference`).

Imports :mod:`vaeapp.core`; only :mod:`~vaeapp.model.vae` imports Keras.
"""
