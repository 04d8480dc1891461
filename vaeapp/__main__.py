"""``python -m vaeapp``: the ``vaeapp`` command (:mod:`vaeapp.cli`)."""

import sys

from vaeapp.cli import main

sys.exit(main())
