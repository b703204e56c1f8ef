"""``python -m lib.run``: see :mod:`lib.run`."""

import sys

from lib.run.cli import main

sys.exit(main())
