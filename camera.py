"""Recognise facial emotions in a webcam, stream, video or image folder: ``python camera.py 0``; see ``--help``."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out of the output

from fer.camera_cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
