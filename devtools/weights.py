"""Random weights for a model of any :class:`~vaeapp.core.config.ModelConfig`,
written in the Keras weights-file layout, for tests and benchmarks that need
a model of a shape no shipped one has."""

from __future__ import annotations

import math
from pathlib import Path

import h5py
import numpy as np

from vaeapp.core.config import ModelConfig
from vaeapp.model.layout import LayerSpec, decoder_layers, encoder_layers


def fan_in(spec: LayerSpec) -> int:
    """The inputs each output of layer ``spec`` sums over: a stride-2
    transposed convolution's output sees a quarter of its kernel's taps."""
    if spec.kind == "conv_transpose":
        taps = spec.kernel_shape[0] * spec.kernel_shape[1] * spec.in_shape[2]
        return taps // spec.stride**2
    return math.prod(spec.kernel_shape[:-1])


def write_random_weights(
    path: Path,
    config: ModelConfig,
    rng: np.random.Generator,
    bias_scale: float = 0.1,
) -> Path:
    """Write a weights file of ``config`` to ``path`` and return it: kernels
    drawn with variance 2 / fan-in (He et al. 2015, "Delving Deep into
    Rectifiers"), so activations keep their scale through the ReLU layers and
    decoded pixels spread over (0, 1); biases normal with ``bias_scale`` (0:
    zeros, drawing nothing). Draws from ``rng`` layer by layer, kernel then
    bias, encoder first."""
    with h5py.File(path, "w") as handle:
        for spec in encoder_layers(config) + decoder_layers(config):
            scale = math.sqrt(2.0 / fan_in(spec))
            kernel = rng.normal(0, scale, spec.kernel_shape).astype(np.float32)
            handle[f"{spec.path}/vars/0"] = kernel
            if bias_scale:
                bias = rng.normal(0, bias_scale, spec.bias_shape).astype(np.float32)
            else:
                bias = np.zeros(spec.bias_shape, np.float32)
            handle[f"{spec.path}/vars/1"] = bias
    return path
