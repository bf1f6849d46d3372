"""Train an emotion model on FER-2013: ``python train.py --data fer2013.csv``; see ``--help``."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out of the log

from fer.train_cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
