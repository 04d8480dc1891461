"""``python -m vaeapp.export``: the export command (:mod:`vaeapp.export.command`)."""

import sys

from vaeapp.export.command import main

sys.exit(main())
