"""Fixtures for the proxy tests: nginx and two app replicas sharing one models folder.

``deploy/replicas.py`` starts two ``streamlit run app.py`` on free localhost
ports with the same ``VAEAPP_HOME`` (in pytest's temporary folder) and a tiny
synthetic MNIST for retraining, then Debian's nginx with a copy of
``deploy/nginx.conf`` naming them, run in the foreground in a temporary prefix.
Everything is started once for the module and stopped at its end. Without
nginx (``apt-get install nginx``) the tests skip; the browser tests also need
Debian's Chromium and the ``playwright`` package, as in ``tests/browser``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from proxy_helpers import Proxied, nginx_missing_reason
from support import write_small_mnist

from deploy import replicas
from devtools import server as devserver


@pytest.fixture(scope="module")
def tiny_mnist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic MNIST-layout .npz (300 training, 100 test images)."""
    return write_small_mnist(tmp_path_factory.mktemp("data") / "tiny.npz")


@pytest.fixture(scope="module")
def proxied(
    tmp_path_factory: pytest.TempPathFactory, tiny_mnist: Path
) -> Iterator[Proxied]:
    """nginx in front of two replicas sharing one VAEAPP_HOME."""
    reason = nginx_missing_reason()
    if reason:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("replicas")
    home = folder / "models"
    env = {
        "VAEAPP_HOME": str(home),
        "VAEAPP_MNIST_DATA": str(tiny_mnist),
    }
    try:
        with replicas.running(2, log_dir=folder / "logs", env=env) as cluster:
            yield Proxied(cluster, home, folder / "logs")
    except devserver.ServerError as error:
        pytest.fail(str(error))
