"""``python -m fer COMMAND``: tools that work on trained model directories.

Each command is a module of this package with ``HELP`` (one line), ``add_arguments(parser)``
and ``run(args) -> int``; add it to :data:`COMMANDS` to make it a subcommand.
"""

import argparse
import importlib
import sys

from .console import setup_console
from .data import DataError

COMMANDS = {
    "evaluate": "fer.evaluate_cli",
    "ensemble": "fer.ensemble_cli",
    "explain": "fer.explain_cli",
    "compare": "fer.compare_cli",
}
"""Subcommand name -> module implementing it (imported only when the CLI starts)."""


def build_parser():
    """The parser of every command in :data:`COMMANDS`."""
    parser = argparse.ArgumentParser(prog="python -m fer", description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="also show TensorFlow's own messages")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        sub = commands.add_parser(name, help=module.HELP, description=module.HELP,
                                  formatter_class=argparse.ArgumentDefaultsHelpFormatter)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv=None):
    """Run one command; bad input exits 2 with a one-line reason."""
    args = build_parser().parse_args(argv)
    setup_console(args.verbose)
    try:
        return args.run(args)
    except (DataError, ValueError, FileNotFoundError, FileExistsError) as error:
        print(f"python -m fer {args.command}: error: {error}", file=sys.stderr)
        return 2
