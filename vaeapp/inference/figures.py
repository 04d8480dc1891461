"""Per held-out image figures in nats, in NumPy: the negative ELBO and its two
terms for each test image, what the map colours its points by.

They are the training loss of :mod:`vaeapp.model.vae` taken image by image:
the Bernoulli reconstruction term summed over pixels and channels, averaged
over draws of z ~ q(z|x), and the analytic KL(q || N(0, I)) summed over latent
dimensions (Kingma & Welling 2014, eq. 10 and appendix B).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from vaeapp.inference.numpy_vae import NumpyVAE
from vaeapp.inference.refinement import EVAL_SAMPLES, neg_elbo


def image_figures(
    vae: NumpyVAE,
    images: np.ndarray,
    mean: np.ndarray,
    log_var: np.ndarray,
    draws: int = EVAL_SAMPLES,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """``{"elbo", "recon", "kl"}`` -> float32 ``(n,)`` nats for ``images``
    ``(n, n_pixels)`` (uint8 0..255 or floats in [0, 1]) under q =
    N(``mean``, exp(``log_var``)), each ``(n, latent_dim)``: the
    reconstruction term averaged over ``draws`` seeded draws of z per image,
    the KL term, and ``elbo`` their sum, the negative ELBO. Raises ValueError
    for shapes that do not match the model."""
    x = np.asarray(images)
    scale = np.float32(255.0 if x.dtype == np.uint8 else 1.0)
    x = x.reshape(x.shape[0], -1).astype(np.float32) / scale
    n, d = x.shape[0], vae.config.latent_dim
    if x.shape[1] != vae.config.n_pixels or np.shape(mean) != (n, d):
        raise ValueError(
            f"images must be (n, {vae.config.n_pixels}) and q ({n}, {d}), got "
            f"{x.shape} and {np.shape(mean)}"
        )
    if not isinstance(draws, int) or draws < 1:
        raise ValueError(f"draws must be a whole number of at least 1, got {draws}")
    recon, kl = neg_elbo(vae, x, mean, log_var, draws, seed)
    return {
        "elbo": (recon + kl).astype(np.float32),
        "recon": recon.astype(np.float32),
        "kl": kl.astype(np.float32),
    }


# Held-out images whose figures are computed at a time: a bound on memory
# (the draws' logits are (FIGURE_ROWS, n_pixels) float32 each).
FIGURE_ROWS = 4096


def streamed_figures(
    vae: NumpyVAE,
    read: Callable[[slice], np.ndarray],
    mean: np.ndarray,
    log_var: np.ndarray,
    rows: int = FIGURE_ROWS,
    draws: int = EVAL_SAMPLES,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """:func:`image_figures` of every image of a set too large to hold (a
    million held-out images), ``rows`` at a time: ``read(slice)`` gives those
    images ``(k, n_pixels)`` uint8 or in [0, 1]; q is ``mean`` and
    ``log_var`` ``(n, latent_dim)``. Part ``i`` draws with seed ``seed +
    i``, so that a set of at most ``rows`` images gets image_figures'
    figures exactly. Returns float32 ``(n,)`` arrays."""
    n = np.shape(mean)[0]
    out = {key: np.empty(n, np.float32) for key in ("elbo", "recon", "kl")}
    for part, start in enumerate(range(0, n, rows)):
        span = slice(start, min(n, start + rows))
        figures = image_figures(
            vae, read(span), mean[span], log_var[span], draws, seed + part
        )
        for key, values in figures.items():
            out[key][span] = values
    return out
