"""Questions asked of a latent space, answered in NumPy: a test digit's
encoding and reconstruction, neighbours, paths, prior samples and how much each
latent dimension is used."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

# Decoded pixels are clipped this far from 0 and 1 before taking logs, as
# Keras does for probabilities; the per-pixel loss is capped near 16 nats.
PIXEL_EPS = 1e-7


class Codec(Protocol):
    """What inspection needs of a model: NumPy encode and decode."""

    def encode(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

    def decode(self, z: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class Inspection:
    """One image through the VAE.

    ``image``, ``reconstruction`` (decoded at the posterior mean) and ``error``
    (reconstruction minus image) are flat ``(height * width * channels,)``
    float32; ``mean`` and ``sigma``
    are the posterior's ``(latent_dim,)``; ``recon_loss`` is the Bernoulli
    negative log-likelihood of the image under the reconstruction, summed over
    pixels and channels, and ``kl`` the KL of the posterior to N(0, I), both in nats.
    """

    image: np.ndarray
    reconstruction: np.ndarray
    error: np.ndarray
    mean: np.ndarray
    sigma: np.ndarray
    recon_loss: float
    kl: float


def inspect_digit(
    model: Codec,
    image: np.ndarray,
    posterior: tuple[np.ndarray, np.ndarray] | None = None,
) -> Inspection:
    """Encode ``image`` (flat, values in [0, 1]) and decode its posterior mean.
    ``posterior`` ``(mean, log_var)``, each ``(latent_dim,)``, is the image's q
    when it is known already (a folder's stored, possibly refined, q of a test
    image); else the model's encoder gives it."""
    x = np.asarray(image, np.float32).reshape(-1)
    if not x.size or not np.isfinite(x).all() or x.min() < 0 or x.max() > 1:
        raise ValueError("image must be finite pixel values in [0, 1]")
    if posterior is None:
        posterior = tuple(a[0] for a in model.encode(x[None]))
    mean, log_var = (np.asarray(a, np.float32) for a in posterior)
    recon = model.decode(mean[None])[0].astype(np.float32)
    p = np.clip(recon.astype(np.float64), PIXEL_EPS, 1.0 - PIXEL_EPS)
    nll = -(x * np.log(p) + (1.0 - x) * np.log1p(-p)).sum()
    kl = -0.5 * float(np.sum(1.0 + log_var - np.square(mean) - np.exp(log_var)))
    return Inspection(
        image=x,
        reconstruction=recon,
        error=recon - x,
        mean=mean.astype(np.float32),
        sigma=np.exp(0.5 * log_var).astype(np.float32),
        recon_loss=float(nll),
        kl=kl,
    )


INTERP_MIN, INTERP_MAX = 8, 16
SAMPLES_MAX = 32


def nearest_neighbours(
    means: np.ndarray, labels: np.ndarray, z: np.ndarray, k: int = 8
) -> tuple[np.ndarray, np.ndarray, int]:
    """The ``k`` points of ``means`` ``(n, d)`` nearest to ``z`` ``(d,)``.

    Returns their indices and Euclidean distances ``(k,)``, nearest first, and
    the majority label among them (ties go to the label of the nearer point).
    """
    if not 1 <= k <= means.shape[0]:
        raise ValueError(f"k must be between 1 and {means.shape[0]}, got {k}")
    distances = np.linalg.norm(means - np.asarray(z, np.float32)[None, :], axis=1)
    index = np.argpartition(distances, k - 1)[:k]
    index = index[np.argsort(distances[index], kind="stable")]
    votes = np.bincount(labels[index], minlength=10)
    best = np.flatnonzero(votes == votes.max())
    predicted = next(int(labels[i]) for i in index if labels[i] in best)
    return index, distances[index], predicted


def interpolate(start: np.ndarray, end: np.ndarray, steps: int) -> np.ndarray:
    """``steps`` points on the straight line from ``start`` to ``end``, both
    included: ``(steps, d)`` float32."""
    if not INTERP_MIN <= steps <= INTERP_MAX:
        raise ValueError(
            f"steps must be between {INTERP_MIN} and {INTERP_MAX}, got {steps}"
        )
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
    start, end = np.asarray(start, np.float32), np.asarray(end, np.float32)
    return (1.0 - t) * start[None, :] + t * end[None, :]


def prior_samples(
    count: int, latent_dim: int, temperature: float = 1.0, seed: int = 0
) -> np.ndarray:
    """``count`` draws from N(0, temperature^2 I): ``(count, latent_dim)`` float32."""
    if not 1 <= count <= SAMPLES_MAX:
        raise ValueError(f"count must be between 1 and {SAMPLES_MAX}, got {count}")
    if not 0.0 < temperature <= 3.0:
        raise ValueError(f"temperature must be in (0, 3], got {temperature}")
    rng = np.random.default_rng(seed)
    return (temperature * rng.standard_normal((count, latent_dim))).astype(np.float32)


def kl_per_dimension(means: np.ndarray, log_vars: np.ndarray) -> np.ndarray:
    """Average KL to N(0, 1) of each latent dimension over the data: ``(d,)`` nats.

    A dimension with KL near 0 is unused: its posterior equals the prior.
    """
    kl = -0.5 * (1.0 + log_vars - np.square(means) - np.exp(log_vars))
    return kl.mean(axis=0)
