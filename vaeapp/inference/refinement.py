"""Per-image refinement of q(z|x) after the encoder, in NumPy.

An encoder trained on the training images places q(z|x) of a new image a
little away from the best Gaussian for it: the amortization gap (Cremer, Li and
Duvenaud 2018), 3 to 5 nats per held-out MNIST image for the shipped 2-D
models. Starting from the encoder's q, a few Adam steps on the image's own
negative ELBO, the decoder fixed, close most of it: stochastic variational
inference from an amortized start (Kim et al. 2018, "Semi-Amortized
Variational Autoencoders"; Krishnan, Liang and Hoffman 2018).

A folder whose config sets ``refine`` (:class:`vaeapp.core.config.RefineConfig`)
uses the refined q everywhere: its map of the test set, its figures and every
image the page encodes (:meth:`vaeapp.store.records.LoadedModel.encode`). The
gradient is taken by hand through the decoder's dense layers and ReLUs, so only
dense decoders can be refined.
"""

from __future__ import annotations

import contextlib

import numpy as np

from vaeapp.core.config import LOG_VAR_LIMIT, MEAN_LIMIT, RefineConfig
from vaeapp.inference.blocks import SMALL_PRODUCTS
from vaeapp.inference.numpy_vae import Dense, NumpyVAE, sigmoid

# Images refined together: draws x images rows of the widest layer per call.
BATCH = 256
# At most this many rows per product (images x draws) make a refinement of
# small products, run on one BLAS thread (blocks.SMALL_PRODUCTS): a picture
# the page encodes, not the test set the refine command goes through.
SMALL_ROWS = 256
# Adam's moment decays and epsilon (Kingma & Ba 2015, the usual values).
BETA1, BETA2, ADAM_EPS = 0.9, 0.999, 1e-8


def check_refinable(vae: NumpyVAE) -> None:
    """Raise ValueError unless ``vae``'s decoder is dense layers only."""
    if not all(isinstance(layer, Dense) for layer in vae.decoder_layers()):
        raise ValueError(
            "refining q needs a dense decoder; this model's decoder has "
            "transposed convolutions"
        )


def reconstruction_and_grad(
    vae: NumpyVAE, z: np.ndarray, x: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The Bernoulli negative log-likelihood of ``x`` ``(n, n_pixels)`` in
    [0, 1] given ``z`` ``(n, latent_dim)``, summed over pixels, ``(n,)``, and
    its gradient with respect to ``z``, ``(n, latent_dim)``. Dense decoders."""
    layers = vae.decoder_layers()
    masks = []
    h = np.asarray(z, np.float32)
    for layer in layers[:-1]:
        a = layer(h)
        masks.append(a > 0)
        h = np.maximum(a, 0.0, out=a)
    logits = layers[-1](h)
    loss = bernoulli_nll(x, logits)
    grad = sigmoid(logits) - x  # the derivative of bernoulli_nll in the logits
    for layer, mask in zip(layers[:0:-1], masks[::-1], strict=True):
        grad = (grad @ layer.kernel.T) * mask
    return loss, grad @ layers[0].kernel.T


def bernoulli_nll(x: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """-log p(x|z) of grey values ``x`` ``(n, n_pixels)`` in [0, 1] from the
    decoder's ``logits``, summed over pixels: ``sum softplus(l) - x l``,
    ``(n,)`` float64."""
    return (np.logaddexp(0.0, logits) - x * logits).sum(axis=1, dtype=np.float64)


def kl_divergence(mean: np.ndarray, log_var: np.ndarray) -> np.ndarray:
    """KL(q || N(0, I)) ``(n,)`` of diagonal Gaussians ``(n, d)`` (Kingma &
    Welling 2014, appendix B), float64."""
    mean, log_var = np.asarray(mean, np.float64), np.asarray(log_var, np.float64)
    return -0.5 * (1.0 + log_var - np.square(mean) - np.exp(log_var)).sum(axis=1)


def refine(
    vae: NumpyVAE,
    x: np.ndarray,
    mean: np.ndarray,
    log_var: np.ndarray,
    config: RefineConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """q refined per image: ``config.steps`` Adam steps on each image's
    negative ELBO from ``(mean, log_var)`` ``(n, d)``, for images ``x``
    ``(n, n_pixels)`` float in [0, 1]. Every image sees the same draws of
    noise, so its result does not depend on the others. Returns float32
    ``(mean, log_var)``; a row whose refinement turns non-finite keeps its
    start. Raises ValueError for a decoder that is not dense."""
    check_refinable(vae)
    x = np.asarray(x, np.float32).reshape(-1, vae.config.n_pixels)
    d = vae.config.latent_dim
    noise = np.random.default_rng(config.seed).standard_normal(
        (config.steps, config.draws, d)
    )
    out_mean = np.array(mean, np.float32).reshape(-1, d)
    out_log_var = np.array(log_var, np.float32).reshape(-1, d)
    small = min(x.shape[0], BATCH) * config.draws <= SMALL_ROWS
    with SMALL_PRODUCTS if small else contextlib.nullcontext():
        for start in range(0, x.shape[0], BATCH):
            rows = slice(start, start + BATCH)
            out_mean[rows], out_log_var[rows] = _refine_batch(
                vae, x[rows], out_mean[rows], out_log_var[rows], noise, config
            )
    return out_mean, out_log_var


def _refine_batch(
    vae: NumpyVAE,
    x: np.ndarray,
    mean: np.ndarray,
    log_var: np.ndarray,
    noise: np.ndarray,
    config: RefineConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`refine` for one batch of ``b`` images; ``noise`` is ``(steps,
    draws, d)``."""
    b, d = mean.shape
    params = np.stack([mean, log_var]).astype(np.float64)  # (2, b, d)
    first, second = np.zeros_like(params), np.zeros_like(params)
    repeated = np.repeat(x, config.draws, axis=0)  # (b * draws, n_pixels)
    for t, eps in enumerate(noise, start=1):
        m, lv = params
        scale = np.exp(0.5 * lv)
        z = m[:, None] + scale[:, None] * eps  # reparameterised: (b, draws, d)
        _, grad_z = reconstruction_and_grad(vae, z.reshape(-1, d), repeated)
        grad_z = grad_z.reshape(b, config.draws, d).astype(np.float64)
        # d/dm and d/dlog_var of E[-log p(x|z)] + KL(q || N(0, I)).
        grad = np.stack(
            [
                grad_z.mean(axis=1) + m,
                (grad_z * eps).mean(axis=1) * 0.5 * scale + 0.5 * np.expm1(lv),
            ]
        )
        grad = np.where(np.isfinite(grad), grad, 0.0)
        first += (1 - BETA1) * (grad - first)
        second += (1 - BETA2) * (np.square(grad) - second)
        step = (first / (1 - BETA1**t)) / (np.sqrt(second / (1 - BETA2**t)) + ADAM_EPS)
        params -= config.learning_rate * step
        params[0] = np.clip(params[0], -MEAN_LIMIT, MEAN_LIMIT)
        params[1] = np.clip(params[1], -LOG_VAR_LIMIT, LOG_VAR_LIMIT)
    refined = params.astype(np.float32)
    bad = ~np.isfinite(refined).all(axis=(0, 2))
    refined[:, bad] = np.stack([mean, log_var])[:, bad]
    return refined[0], refined[1]


def neg_elbo(
    vae: NumpyVAE,
    x: np.ndarray,
    mean: np.ndarray,
    log_var: np.ndarray,
    draws: int,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """``(reconstruction, kl)``, each ``(n,)`` float64 nats, of images ``x``
    ``(n, n_pixels)`` in [0, 1] under q = N(mean, exp(log_var)): the
    reconstruction averaged over ``draws`` independent draws of z per image,
    the KL analytic; their sum is the negative ELBO. Any decoder."""
    x = np.asarray(x, np.float32).reshape(-1, vae.config.n_pixels)
    mean, log_var = np.asarray(mean, np.float64), np.asarray(log_var, np.float64)
    rng = np.random.default_rng(seed)
    recon = np.zeros(x.shape[0])
    for start in range(0, x.shape[0], BATCH):
        rows = slice(start, start + BATCH)
        for _ in range(draws):
            eps = rng.standard_normal(mean[rows].shape)
            z = mean[rows] + np.exp(0.5 * log_var[rows]) * eps
            logits = vae.decode_logits(z.astype(np.float32))
            recon[rows] += bernoulli_nll(x[rows], logits)
    return recon / draws, kl_divergence(mean, log_var)


EVAL_SAMPLES = 10
