"""Where each dense layer's weights sit in a Keras ``.weights.h5`` file, and
the shapes they must have, for a given :class:`ModelConfig`.

Keras 3 names the groups in a weights file by layer class and order within
each sub-model (``dense``, ``dense_1``, ...), not by layer name. The model in
:mod:`vaeapp.model` creates its layers in the order listed here: encoder hidden
layers, mean head, log-variance head; decoder hidden layers, logits head. This
module is pure Python so the NumPy inference path can use it without Keras.
"""

from __future__ import annotations

from vaeapp.config import N_PIXELS, ModelConfig


def _keras_names(count: int) -> list[str]:
    return ["dense" if i == 0 else f"dense_{i}" for i in range(count)]


def encoder_layer_shapes(config: ModelConfig) -> list[tuple[int, int]]:
    """``(n_in, n_out)`` of the encoder's dense layers in creation order."""
    widths = (N_PIXELS, *config.hidden)
    hidden = list(zip(widths[:-1], widths[1:], strict=True))
    head = (config.hidden[-1], config.latent_dim)
    return [*hidden, head, head]


def decoder_layer_shapes(config: ModelConfig) -> list[tuple[int, int]]:
    """``(n_in, n_out)`` of the decoder's dense layers in creation order."""
    widths = (config.latent_dim, *reversed(config.hidden), N_PIXELS)
    return list(zip(widths[:-1], widths[1:], strict=True))


def h5_dense_paths(config: ModelConfig) -> dict[str, list[str]]:
    """HDF5 group paths of the dense layers, per sub-model, in creation order."""
    return {
        part: [f"{part}/layers/{name}" for name in _keras_names(len(shapes))]
        for part, shapes in (
            ("encoder", encoder_layer_shapes(config)),
            ("decoder", decoder_layer_shapes(config)),
        )
    }


def parameter_count(config: ModelConfig) -> int:
    """Number of trainable parameters of the whole VAE."""
    shapes = encoder_layer_shapes(config) + decoder_layer_shapes(config)
    return sum(n_in * n_out + n_out for n_in, n_out in shapes)
