"""The variational autoencoder in Keras 3 (Kingma & Welling 2014, "Auto-Encoding
Variational Bayes", arXiv:1312.6114).

Two architectures share the interface: images of ``config.image_shape``
``(height, width, channels)`` travel flattened, as ``(batch, n_pixels)`` values
in [0, 1] with ``n_pixels = height * width * channels`` in channels-last
reading order (``images.reshape(batch, -1)``; 784 for MNIST), and logits come
out in the same layout. Flat arrays keep one layout for every shape, for the
chunked training loop (:mod:`vaeapp.train.batches`), the stored test images and the
NumPy and browser decoders. The dense one has fully connected layers only; the
conv one (as in the Keras VAE example) reshapes the image to
``(height, width, channels)``, runs one stride-2 convolution per entry of
``config.conv_filters`` and the dense layers, and its decoder projects z to the
innermost ``(height / 2**stages, width / 2**stages)`` feature map that as many
stride-2 transposed convolutions and a ``channels``-filter one turn back into
logits (28x28x1 -> 7x7 -> 28x28x1 for MNIST and the conv preset; 32x32x3 ->
4x4 -> 32x32x3 for the shapes and conv-deep).

The order in which layers are created is part of the saved-model format: Keras
names the weight groups by layer class and order, and
:mod:`vaeapp.inference.weights_file` reads the same ``.weights.h5`` file at the
paths :mod:`vaeapp.model.layout` lists, for :mod:`vaeapp.inference.numpy_vae`
to run the model in NumPy.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from vaeapp.core.config import CONV_KERNEL, CONV_STRIDE, ModelConfig
from vaeapp.model.layout import conv_inner_shape

ENCODER_NAME, DECODER_NAME = "encoder", "decoder"
MEAN_LAYER, LOG_VAR_LAYER, LOGITS_LAYER = "z_mean", "z_log_var", "x_logits"
METRIC_NAMES = ("recon", "kl", "neg_elbo")


def encoder_hidden_name(i: int) -> str:
    return f"enc_hidden_{i}"


def decoder_hidden_name(i: int) -> str:
    return f"dec_hidden_{i}"


def encoder_conv_name(i: int) -> str:
    return f"enc_conv_{i}"


def decoder_conv_name(i: int) -> str:
    return f"dec_deconv_{i}"


@keras.saving.register_keras_serializable(package="vaeapp")
class Sampling(keras.layers.Layer):
    """Reparameterised draw ``z = mean + exp(0.5 * log_var) * eps``, eps ~ N(0, I).

    Inputs ``(mean, log_var)`` of shape ``(batch, latent_dim)``; output the same
    shape. Seeded through a ``keras.random.SeedGenerator``, so two layers built
    with the same seed draw the same noise.
    """

    def __init__(self, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs: tuple[Any, Any]) -> Any:
        mean, log_var = inputs
        eps = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
        return mean + ops.exp(0.5 * log_var) * eps

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape[0]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "seed": self.seed}


def kl_divergence(mean: Any, log_var: Any) -> Any:
    """KL(q(z|x) || N(0, I)) per image, summed over latent dimensions.

    ``-0.5 * sum(1 + log_var - mean^2 - exp(log_var))`` (Kingma & Welling 2014,
    appendix B). Inputs ``(batch, latent_dim)``; output ``(batch,)`` in nats.
    """
    return -0.5 * ops.sum(1.0 + log_var - ops.square(mean) - ops.exp(log_var), axis=-1)


def reconstruction_loss(x: Any, logits: Any) -> Any:
    """Bernoulli negative log-likelihood per image, summed over every pixel and
    channel.

    ``x`` holds values in [0, 1], ``logits`` the decoder's pre-sigmoid outputs,
    both ``(batch, n_pixels)`` (784 for MNIST); output ``(batch,)`` in nats.
    Computed from logits so that no clipping caps the per-value loss.
    """
    return ops.sum(ops.binary_crossentropy(x, logits, from_logits=True), axis=-1)


def _dropout(rate: float, x: Any, name: str) -> Any:
    """``x`` through a Dropout layer when ``rate`` is above 0 (training only; it
    holds no weights, so the weights file's layout is unchanged)."""
    return keras.layers.Dropout(rate, name=name)(x) if rate else x


def build_encoder(config: ModelConfig) -> keras.Model:
    """``(batch, n_pixels)`` -> ``[mean, log_var]``, each ``(batch, latent_dim)``."""
    inputs = keras.Input(shape=(config.n_pixels,), name="image")
    # The encoder overfits first: on held-out images a per-image fit of q gains
    # far more than on training images (Zhang et al. 2022; docs/training.md).
    x = _dropout(config.input_dropout, inputs, "enc_input_dropout")
    if config.architecture == "conv":
        x = keras.layers.Reshape(tuple(config.image_shape), name="image_2d")(x)
        for i, filters in enumerate(config.conv_filters):
            x = keras.layers.Conv2D(
                filters,
                CONV_KERNEL,
                strides=CONV_STRIDE,
                padding="same",
                activation="relu",
                name=encoder_conv_name(i),
            )(x)
        x = keras.layers.Flatten(name="enc_flatten")(x)
    for i, width in enumerate(config.hidden):
        x = keras.layers.Dense(width, activation="relu", name=encoder_hidden_name(i))(x)
        x = _dropout(config.dropout, x, f"enc_dropout_{i}")
    mean = keras.layers.Dense(config.latent_dim, name=MEAN_LAYER)(x)
    log_var = keras.layers.Dense(config.latent_dim, name=LOG_VAR_LAYER)(x)
    return keras.Model(inputs, [mean, log_var], name=ENCODER_NAME)


def build_decoder(config: ModelConfig) -> keras.Model:
    """``(batch, latent_dim)`` -> logits ``(batch, n_pixels)``; sigmoid gives
    pixels."""
    x = inputs = keras.Input(shape=(config.latent_dim,), name="z")
    for i, width in enumerate(config.decoder_widths):
        x = keras.layers.Dense(width, activation="relu", name=decoder_hidden_name(i))(x)
    if config.architecture != "conv":
        logits = keras.layers.Dense(config.n_pixels, name=LOGITS_LAYER)(x)
        return keras.Model(inputs, logits, name=DECODER_NAME)
    inner = conv_inner_shape(config)
    x = keras.layers.Dense(
        inner[0] * inner[1] * inner[2], activation="relu", name="dec_project"
    )(x)
    x = keras.layers.Reshape(inner, name="dec_map")(x)
    for i, filters in enumerate(reversed(config.conv_filters)):
        x = keras.layers.Conv2DTranspose(
            filters,
            CONV_KERNEL,
            strides=CONV_STRIDE,
            padding="same",
            activation="relu",
            name=decoder_conv_name(i),
        )(x)
    x = keras.layers.Conv2DTranspose(
        config.image_shape[2], CONV_KERNEL, padding="same", name=f"{LOGITS_LAYER}_map"
    )(x)
    logits = keras.layers.Flatten(name=LOGITS_LAYER)(x)
    return keras.Model(inputs, logits, name=DECODER_NAME)


class VAE(keras.Model):
    """Encoder, sampling and decoder, trained on the negative ELBO.

    ``call`` maps flat images ``(batch, n_pixels)`` to ``(logits, mean,
    log_var)``, logits ``(batch, n_pixels)`` too. The
    training loss per image is reconstruction + kl_weight * KL, averaged over
    the batch; ``kl_weight`` is beta, or less during a KL warm-up. The tracked
    metrics are the batch-weighted means of reconstruction, KL and their sum,
    the negative ELBO (always with weight 1), so ``neg_elbo == recon + kl``.
    """

    def __init__(self, config: ModelConfig, seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.config = config
        self.encoder = build_encoder(config)
        self.decoder = build_decoder(config)
        self.sampling = Sampling(seed=seed, name="sampling")
        self.kl_weight = keras.Variable(
            config.beta, trainable=False, name="kl_weight", dtype="float32"
        )
        self.trackers = {n: keras.metrics.Mean(name=n) for n in METRIC_NAMES}
        self.build((None, config.n_pixels))

    def build(self, input_shape: Any) -> None:
        self.encoder.build(input_shape)
        self.decoder.build((None, self.config.latent_dim))
        self.built = True

    def call(self, x: Any, training: bool = False) -> tuple[Any, Any, Any]:
        mean, log_var = self.encoder(x, training=training)
        z = self.sampling((mean, log_var))
        return self.decoder(z, training=training), mean, log_var

    def train_step(self, *args: Any) -> Any:
        """Train on a batch ``(batch, n_pixels)``, as Keras does, or, on the
        TensorFlow backend, on a chunk ``(steps, batch, n_pixels)`` of batches
        (:mod:`vaeapp.train.batches`).

        A chunk takes one optimizer step per batch, in a loop that runs inside
        this one compiled call: with ``jit_compile`` XLA compiles the loop, so a
        chunk costs one launch instead of one per batch. Returns the epoch's
        running metrics, like Keras's own ``train_step``.

        This is the one place the backends differ. JAX's trainer is stateless,
        ``train_step(state, data) -> (logs, state)``, and gets plain batches
        (its ``steps_per_execution`` loop already runs one compiled step after
        another without a graph loop in between); it runs Keras's own step,
        which calls :meth:`compute_loss` below, shared by both backends.
        """
        if keras.backend.backend() != "tensorflow" or len(args) != 1:
            return super().train_step(*args)
        import tensorflow as tf  # the loop needs the backend's tape

        (data,) = args
        x = data[0] if isinstance(data, tuple) else data
        if len(x.shape) != 3:
            return super().train_step(data)
        loss_tracker = next(m for m in self.metrics if m.name == "loss")

        def one_batch(step: Any) -> Any:
            batch = x[step]
            with tf.GradientTape() as tape:
                loss = self.compute_loss(x=batch, y_pred=self(batch, training=True))
            grads = tape.gradient(loss, self.trainable_weights)
            self.optimizer.apply_gradients(
                zip(grads, self.trainable_weights, strict=True)
            )
            loss_tracker.update_state(loss, sample_weight=tf.shape(batch)[0])
            return step + 1

        tf.while_loop(lambda step: step < tf.shape(x)[0], one_batch, [0])
        return {m.name: m.result() for m in self.metrics}

    def compute_loss(
        self,
        x: Any = None,
        y: Any = None,
        y_pred: Any = None,
        sample_weight: Any = None,
        training: bool = True,
    ) -> Any:
        logits, mean, log_var = y_pred
        recon = reconstruction_loss(x, logits)
        kl = kl_divergence(mean, log_var)
        self.trackers["recon"].update_state(recon)
        self.trackers["kl"].update_state(kl)
        self.trackers["neg_elbo"].update_state(recon + kl)
        return ops.mean(recon + self.kl_weight * kl)
