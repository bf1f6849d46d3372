"""Recognise facial emotions in a webcam, stream, video or image folder: ``python camera.py 0``; see ``--help``."""

import sys

from fer.cli import main

if __name__ == "__main__":
    sys.exit(main(command="camera", prog="camera.py"))
