"""Train an emotion model on FER-2013: ``python train.py --data fer2013.csv``; see ``--help``."""

import sys

from fer.cli import main

if __name__ == "__main__":
    sys.exit(main(command="train", prog="train.py"))
