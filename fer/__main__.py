"""``python -m fer``: see :mod:`fer.cli`."""

import sys

from .cli import main

sys.exit(main())
