"""vaeapp: an interactive latent-space explorer for variational autoencoders.

Packages, from the top layer down (a package imports only from those below
it; ``lint-imports`` checks this, with the contracts in pyproject.toml):

- :mod:`vaeapp.ui` — the Streamlit page;
- :mod:`vaeapp.train` — training (Keras), and the commands
  ``python -m vaeapp.export``, ``.evaluate`` and ``.refine`` beside it;
- :mod:`vaeapp.jobs` — training runs the page starts, and their progress file;
- :mod:`vaeapp.explore` and :mod:`vaeapp.web` — questions asked of a trained
  model in NumPy, and what the browser runs;
- :mod:`vaeapp.store` — model folders on disk;
- :mod:`vaeapp.inference` and :mod:`vaeapp.data` — the model in NumPy, and the
  images;
- :mod:`vaeapp.model` — the Keras model and its weight layout;
- :mod:`vaeapp.core` — settings, checks of outside text, JSON and z.

Only :mod:`vaeapp.model` and :mod:`vaeapp.train` import Keras, TensorFlow or
JAX: the page runs on NumPy. docs/architecture.md draws the arrows.

:mod:`vaeapp.cli` is the ``vaeapp`` command (``vaeapp serve``, ``train``,
``export``, ``evaluate``, ``refine``); each subcommand also runs as
``python -m vaeapp.<command>``.
"""

# The one place the version is written: pyproject.toml reads it, CHANGELOG.md
# says what changed in it.
__version__ = "0.9.0"
