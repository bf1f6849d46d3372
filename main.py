"""Serve the live emotion demo: ``python main.py --source 0``; see ``--help``."""

import sys

from fer.cli import main

if __name__ == "__main__":
    sys.exit(main(command="serve", prog="main.py"))
