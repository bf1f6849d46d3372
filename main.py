"""Serve the live emotion demo: ``python main.py --source 0``; see ``--help``."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out of the log

from fer.web_cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
