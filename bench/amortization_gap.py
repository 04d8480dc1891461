"""Measure how much of a model's held-out -ELBO its encoder loses.

Command line: ``python bench/amortization_gap.py --model NAME_OR_FOLDER
--data PATH [--images N] [--steps S]``.

For ``--images`` training images and as many of the validation split
(``vaeapp.data.sources.validation_split``, the images the run never trained on),
it prints the negative ELBO with the encoder's q(z|x) and after fitting each
image's own Gaussian q by gradient descent on its negative ELBO, the decoder
fixed (the amortization gap of Cremer et al. 2018). When the gap is much
larger on held-out images than on training images, the encoder overfits
rather than the decoder (Zhang et al. 2022). Both figures average 50 draws
of z per image. Uses Keras (TensorFlow); about a minute per 300 images on
one core.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

EVAL_DRAWS = 50  # draws of z per image for each printed figure
FIT_DRAWS = 4  # draws per gradient step of the per-image fit
FIT_LR = 0.02  # Adam's rate for the per-image means and log-variances


def neg_elbo(decoder, x, mean, log_var, draws: int):
    """Per-image negative ELBO ``(n,)`` of ``x`` ``(n, pixels)`` under
    q = N(mean, exp(log_var)), each ``(n, latent)``: the model's own loss terms
    (:mod:`vaeapp.model.vae`), the reconstruction averaged over ``draws``
    reparameterised draws."""
    import tensorflow as tf

    from vaeapp.model.vae import kl_divergence, reconstruction_loss

    recon = 0.0
    for _ in range(draws):
        z = mean + tf.exp(0.5 * log_var) * tf.random.normal(tf.shape(mean))
        recon += reconstruction_loss(x, decoder(z))
    return recon / draws + kl_divergence(mean, log_var)


def gap(vae, x: np.ndarray, steps: int) -> tuple[float, float]:
    """Mean negative ELBO of ``x`` with the encoder's q, and with q fitted per
    image for ``steps`` Adam steps from the encoder's."""
    import tensorflow as tf

    x = tf.constant(x)
    start_mean, start_log_var = vae.encoder(x)
    before = neg_elbo(vae.decoder, x, start_mean, start_log_var, EVAL_DRAWS)
    mean, log_var = tf.Variable(start_mean), tf.Variable(start_log_var)
    optimizer = tf.keras.optimizers.Adam(FIT_LR)
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(neg_elbo(vae.decoder, x, mean, log_var, FIT_DRAWS))
        grads = tape.gradient(loss, [mean, log_var])
        optimizer.apply_gradients(zip(grads, [mean, log_var], strict=True))
    after = neg_elbo(vae.decoder, x, mean, log_var, EVAL_DRAWS)
    return float(tf.reduce_mean(before)), float(tf.reduce_mean(after))


def main(argv: list[str] | None = None) -> None:
    """Parse the options, load the model and its data, print both gaps."""
    from vaeapp.data.sources import load_dataset, validation_split
    from vaeapp.model.vae import VAE
    from vaeapp.store.format import WEIGHTS_FILE
    from vaeapp.store.listing import find_model
    from vaeapp.store.reading import load_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="shipped name or folder")
    parser.add_argument("--data", default=None, help="the model's data set")
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    folder = find_model(args.model)
    record = load_model(folder).record
    data = load_dataset(record.dataset, args.data)
    vae = VAE(record.model)
    vae.load_weights(str(folder / WEIGHTS_FILE))
    train_rows, validation_rows = validation_split(
        data.x_train.shape[0], record.train.validation_size
    )
    rng = np.random.default_rng(args.seed)
    print(f"{folder.name}: {args.images} images each, {args.steps} steps per fit")
    for name, rows in (("training", train_rows), ("validation", validation_rows)):
        picked = rng.choice(rows, min(args.images, rows.size), replace=False)
        before, after = gap(vae, data.x_train[np.sort(picked)], args.steps)
        print(
            f"{name}: -ELBO with the encoder {before:.2f}, fitted per image "
            f"{after:.2f}, amortization gap {before - after:.2f} nats"
        )


if __name__ == "__main__":
    main()
