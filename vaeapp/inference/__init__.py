"""The trained VAE in plain NumPy: the encoder and decoder read safely from
a weights file, and the per-image refinement of q(z|x).

Imports :mod:`vaeapp.core` and the weight layout of :mod:`vaeapp.model`;
never Keras, TensorFlow or JAX.
"""
