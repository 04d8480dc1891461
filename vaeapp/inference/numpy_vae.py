"""The trained VAE, dense or conv, in plain NumPy: no TensorFlow import.

Its weights come from the Keras ``.weights.h5`` file that training writes,
read safely by :mod:`vaeapp.inference.weights_file`; runs of feature-map layers
go a block of images at a time on a few threads (:mod:`vaeapp.inference.blocks`).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vaeapp.core.config import ModelConfig
from vaeapp.inference.blocks import BLAS_SHARE, blocks_threaded, in_blocks
from vaeapp.inference.weights_file import read_layer_arrays
from vaeapp.model.layout import (
    CONV,
    CONV_TRANSPOSE,
    LayerSpec,
    decoder_layers,
    encoder_layers,
)

# A transposed convolution with fewer output channels than this computes its
# taps channels-first (see ConvTranspose2D).
FEW_CHANNELS = 8


@dataclass(frozen=True)
class Dense:
    """One dense layer: ``kernel (n_in, n_out)``, ``bias (n_out,)``."""

    kernel: np.ndarray
    bias: np.ndarray

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """``(n, n_in)`` -> ``(n, n_out)``."""
        return x @ self.kernel + self.bias


@dataclass(frozen=True)
class _MapLayer:
    """A layer over flattened channels-last feature maps ``(n, h * w * c)``:
    ``kernel``, ``bias (c_out,)`` and ``spec`` (the input and output maps
    ``(h, w, c)``, the stride and the padding). It runs CONV_BLOCK images at a
    time; subclasses compute one block in ``_block``, followed by ReLU when
    ``relu`` is true (fused where that saves a pass over the output)."""

    kernel: np.ndarray
    bias: np.ndarray
    spec: LayerSpec

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """``(n, h_in * w_in * c_in)`` -> ``(n, h_out * w_out * c_out)``."""
        return in_blocks(self._block, x, self.spec.n_out)

    def _block(self, x: np.ndarray, relu: bool = False) -> np.ndarray:
        raise NotImplementedError


@dataclass(frozen=True)
class Conv2D(_MapLayer):
    """A convolution with "same" padding, as Keras's ``Conv2D`` computes it;
    ``kernel (k, k, c_in, c_out)``."""

    def _block(self, x: np.ndarray, relu: bool = False) -> np.ndarray:
        (h, w, c), (oh, ow, co) = self.spec.in_shape, self.spec.out_shape
        k, s, (top, left) = self.kernel.shape[0], self.spec.stride, self.spec.pad
        n = x.shape[0]
        bottom = max((oh - 1) * s + k - h, 0) - top
        right = max((ow - 1) * s + k - w, 0) - left
        padded = np.pad(
            x.reshape(n, h, w, c), ((0, 0), (top, bottom), (left, right), (0, 0))
        )
        # im2col: every output position's k x k x c_in patch as one row, so the
        # whole convolution is a single matrix product.
        windows = np.lib.stride_tricks.sliding_window_view(padded, (k, k), (1, 2))
        patches = windows[:, ::s, ::s].transpose(0, 1, 2, 4, 5, 3)
        columns = patches.reshape(n * oh * ow, k * k * c)
        out = columns @ self.kernel.reshape(k * k * c, co) + self.bias
        return (_relu(out) if relu else out).reshape(n, oh * ow * co)


@dataclass(frozen=True)
class ConvTranspose2D(_MapLayer):
    """A transposed convolution with "same" padding, as Keras's
    ``Conv2DTranspose`` computes it (the gradient of the matching ``Conv2D``);
    ``kernel (k, k, c_out, c_in)`` (Keras's layout), and ``spec.pad`` is what is
    cropped from the start of the full output, whose sides are the input's
    times the stride.

    Every kernel tap ``(a, b)`` lands on one phase of the output, the pixels
    ``(y * stride + py, x * stride + px)``, shifted by whole pixels. So each
    phase is computed on its own, contiguous: its unshifted tap's product
    (input pixels times that tap's ``(c_in, c_out)`` kernel) plus the bias,
    then its other taps' products added at their shifts; the phases are then
    interleaved into the output. That is about one pass over the output per
    tap, each along whole image rows, instead of adding every tap into a
    zeroed, larger full map, cropping it and copying it. With few output
    channels (the last layer: 1 or 3) one product gives all taps, computed
    channels-first, so that each add runs along image rows instead of 1 to 3
    values at a time.
    """

    def _block(self, x: np.ndarray, relu: bool = False) -> np.ndarray:
        (h, w, c), (oh, ow, co) = self.spec.in_shape, self.spec.out_shape
        k, s, n = self.kernel.shape[0], self.spec.stride, x.shape[0]
        rows = x.reshape(n * h * w, c)
        if co < FEW_CHANNELS:
            # (k, k, c_out, c_in) @ (c_in, n h w): taps (k, k, c_out, n, h, w),
            # and the output (c_out, n, oh, ow) is made channels-last at the end.
            taps = (self._weights_first @ rows.T).reshape(k, k, co, n, h, w)
            out = np.empty((co, n, oh, ow), np.float32)
            phases = out.reshape(co, n, h, s, w, s)
            bias = self.bias[:, None, None, None]
            for (py, px), plan in self._plan:
                phase = phases[:, :, :, py, :, px]
                self._fill(phase, bias, plan, lambda a, b: taps[a, b], 2)
            out = _relu(out) if relu else out
            return out.transpose(1, 2, 3, 0).reshape(n, oh * ow * co)
        out = np.empty((n, oh, ow, co), np.float32)
        # A stride-1 layer has one phase, the output itself.
        phase = out if s == 1 else np.empty((n, h, w, co), np.float32)
        scratch = np.empty((n * h * w, co), np.float32)
        tap_kernels = self._tap_kernels

        def tap(a: int, b: int) -> np.ndarray:
            np.matmul(rows, tap_kernels[a, b], out=scratch)
            return scratch.reshape(n, h, w, co)

        for (py, px), plan in self._plan:
            self._fill(phase, self.bias, plan, tap, 1)
            if s > 1:  # interleaved, with the ReLU in the same pass
                target = out.reshape(n, h, s, w, s, co)[:, :, py, :, px]
                if relu:
                    np.maximum(phase, 0.0, out=target)
                else:
                    target[...] = phase
        if relu and s == 1:
            _relu(out)
        return out.reshape(n, oh * ow * co)

    @staticmethod
    def _fill(
        view: np.ndarray,
        bias: np.ndarray,
        plan: list,
        tap: Callable[[int, int], np.ndarray],
        axis: int,
    ) -> None:
        """Write one output phase ``view`` (its image rows and columns at
        ``axis`` and ``axis + 1``): bias plus every tap ``tap(a, b)``, each
        shifted by ``(dy, dx)`` whole pixels and clipped at the border.
        ``plan`` lists ``((a, b), dy, dx)``, the unshifted tap (if any) first."""
        h, w = view.shape[axis], view.shape[axis + 1]
        start = 0
        if plan and plan[0][1:] == (0, 0):
            np.add(tap(*plan[0][0]), bias, out=view)
            start = 1
        else:
            view[...] = bias
        lead = (slice(None),) * axis
        for (a, b), dy, dx in plan[start:]:
            y0, y1, x0, x1 = max(dy, 0), min(h, h + dy), max(dx, 0), min(w, w + dx)
            if y0 < y1 and x0 < x1:
                view[(*lead, slice(y0, y1), slice(x0, x1))] += tap(a, b)[
                    (*lead, slice(y0 - dy, y1 - dy), slice(x0 - dx, x1 - dx))
                ]

    @functools.cached_property
    def _tap_kernels(self) -> np.ndarray:
        """The kernel as ``(k, k, c_in, c_out)``: one ``(c_in, c_out)`` matrix
        per tap, contiguous."""
        return np.ascontiguousarray(self.kernel.transpose(0, 1, 3, 2))

    @functools.cached_property
    def _weights_first(self) -> np.ndarray:
        """The kernel as ``(k * k * c_out, c_in)``: taps channels-first."""
        k, _, co, c = self.kernel.shape
        return np.ascontiguousarray(self.kernel).reshape(k * k * co, c)

    @functools.cached_property
    def _plan(self) -> list[tuple[tuple[int, int], list]]:
        """For each output phase ``(py, px)``, its taps as ``((a, b), dy,
        dx)``: tap ``a`` of input row ``y`` lands on output row
        ``(y + dy) * stride + py``; the unshifted tap comes first."""
        k, s, (top, left) = self.kernel.shape[0], self.spec.stride, self.spec.pad
        phases: dict[tuple[int, int], list] = {
            (py, px): [] for py in range(s) for px in range(s)
        }
        for a in range(k):
            for b in range(k):
                dy, py = divmod(a - top, s)
                dx, px = divmod(b - left, s)
                phases[py, px].append(((a, b), dy, dx))
        for plan in phases.values():
            plan.sort(key=lambda item: (item[1], item[2]) != (0, 0))
        return list(phases.items())


Layer = Dense | Conv2D | ConvTranspose2D


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0, out=x)


def _identity(x: np.ndarray) -> np.ndarray:
    return x


def _sigmoid_in_place(x: np.ndarray) -> np.ndarray:
    """:func:`sigmoid` computed in ``x``'s own memory (the same float32 steps)."""
    np.multiply(x, 0.5, out=x)
    np.tanh(x, out=x)
    np.add(x, 1.0, out=x)
    return np.multiply(x, 0.5, out=x)


def _forward(
    layers: Sequence[Layer],
    x: np.ndarray,
    last: Callable[[np.ndarray], np.ndarray] = _relu,
) -> np.ndarray:
    """``x`` ``(n, n_in)`` through ``layers``, each followed by ReLU but the
    last, followed by ``last`` (applied in place).

    Dense layers take all ``n`` rows in one product; a run of feature-map
    layers goes CONV_BLOCK images at a time, the whole run and its
    activations per block, so a block's maps stay in the CPU's cache instead
    of each layer writing and reading back arrays of all ``n`` images.

    When those blocks run on several threads, the whole pass holds the BLAS
    share (blocks.BLAS_SHARE), the dense layers too: a dense product on BLAS's
    own threads just before the blocks leaves those threads spinning, waiting
    for more work, on the cores the blocks need (a 15x15 grid of 32x32x3
    images: 55 ms at best against 44 ms). Splitting the dense rows among the
    block threads instead would change the last bits of the results with the
    number of threads (BLAS picks its kernels by the rows' count).
    """
    threaded = blocks_threaded(x.shape[0]) and any(
        isinstance(layer, _MapLayer) for layer in layers
    )
    with BLAS_SHARE if threaded else contextlib.nullcontext():
        return _forward_runs(layers, x, last)


def _forward_runs(
    layers: Sequence[Layer],
    x: np.ndarray,
    last: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    """:func:`_forward`'s pass."""
    start = 0
    while start < len(layers):
        end = start
        while end < len(layers) and isinstance(layers[end], _MapLayer):
            end += 1
        run = layers[start : max(end, start + 1)]
        activations = [
            last if k == len(layers) - 1 else _relu
            for k in range(start, start + len(run))
        ]
        if end == start:
            x = activations[0](run[0](x))
        else:

            def block(
                rows: np.ndarray, run: Sequence[Layer] = run, acts: list = activations
            ) -> np.ndarray:
                for layer, activation in zip(run, acts, strict=True):
                    if activation is _relu:
                        rows = layer._block(rows, relu=True)
                    else:
                        rows = activation(layer._block(rows))
                return rows

            x = in_blocks(block, x, run[-1].spec.n_out)
        start += len(run)
    return x


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function, stable for large ``|x|``."""
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


@dataclass(frozen=True)
class NumpyVAE:
    """Encoder and decoder of a dense or conv VAE as NumPy arrays (float32).

    ``encoder_hidden`` and ``decoder_hidden`` are the layers followed by ReLU
    (for a conv model, the encoder's convolutions come first and the decoder's
    dense projection and transposed convolutions last); ``logits_head`` is a
    dense layer or, for a conv model, the last transposed convolution. Every
    layer maps flat arrays ``(n, features)``.
    """

    config: ModelConfig
    encoder_hidden: tuple[Layer, ...]
    mean_head: Dense
    log_var_head: Dense
    decoder_hidden: tuple[Layer, ...]
    logits_head: Layer

    def decode(self, z: np.ndarray) -> np.ndarray:
        """Latent points ``(n, latent_dim)`` -> pixel means ``(n, n_pixels)`` in
        [0, 1], flat: each row is an image of ``config.image_shape`` in
        channels-last reading order (784 values for MNIST);
        :meth:`decode_images` gives them as ``(n, height, width, channels)``."""
        h = np.asarray(z, dtype=np.float32).reshape(-1, self.config.latent_dim)
        return _forward(self.decoder_layers(), h, _sigmoid_in_place)

    def decode_logits(self, z: np.ndarray) -> np.ndarray:
        """Latent points ``(n, latent_dim)`` -> the logits ``(n, n_pixels)``
        float32 that :meth:`decode` passes through the sigmoid (for
        likelihoods, where the log of a rounded probability would lose digits)."""
        h = np.asarray(z, dtype=np.float32).reshape(-1, self.config.latent_dim)
        return _forward(self.decoder_layers(), h, _identity)

    def decode_images(self, z: np.ndarray) -> np.ndarray:
        """Latent points ``(n, latent_dim)`` -> images ``(n, height, width,
        channels)`` in [0, 1] (:meth:`decode`'s rows, reshaped)."""
        return self.decode(z).reshape(-1, *self.config.image_shape)

    def encode(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Images in [0, 1], flat ``(n, n_pixels)`` or ``(n, height, width,
        channels)`` -> ``(mean, log_var)``, each ``(n, latent_dim)``."""
        h = np.asarray(x, dtype=np.float32).reshape(-1, self.config.n_pixels)
        h = _forward(self.encoder_hidden, h)
        return self.mean_head(h), self.log_var_head(h)

    def decoder_layers(self) -> list[Layer]:
        """The decoder's layers in order, the last giving logits."""
        return [*self.decoder_hidden, self.logits_head]


def _layer(spec: LayerSpec, kernel: np.ndarray, bias: np.ndarray) -> Layer:
    if spec.kind == CONV:
        return Conv2D(kernel, bias, spec)
    if spec.kind == CONV_TRANSPOSE:
        return ConvTranspose2D(kernel, bias, spec)
    return Dense(kernel, bias)


def load_numpy_vae(weights_path: str | Path, config: ModelConfig) -> NumpyVAE:
    """Read ``weights_path`` (a Keras ``.weights.h5``) into a :class:`NumpyVAE`."""
    arrays = read_layer_arrays(weights_path, config)
    enc = [_layer(spec, *arrays[spec.path]) for spec in encoder_layers(config)]
    dec = [_layer(spec, *arrays[spec.path]) for spec in decoder_layers(config)]
    return NumpyVAE(
        config=config,
        encoder_hidden=tuple(enc[:-2]),
        mean_head=enc[-2],  # the layout's heads are dense layers
        log_var_head=enc[-1],
        decoder_hidden=tuple(dec[:-1]),
        logits_head=dec[-1],
    )
