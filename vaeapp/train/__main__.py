"""``python -m vaeapp.train``: the training command (:mod:`vaeapp.train.command`)."""

import sys

from vaeapp.train.command import main

sys.exit(main())
