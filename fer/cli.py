"""Every command line of the project, one convention: ``python -m fer COMMAND [options]``.

A command is a module with ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> exit status``, and optionally ``DESCRIPTION``, ``EPILOG`` and ``LOG_LEVEL``;
:data:`COMMANDS` names them. ``train.py``, ``camera.py`` and ``main.py`` are shells that run
one command under their own name. Only the chosen command's module is imported, and command
modules import nothing heavy at the top, so that ``--help`` and bad options answer at once.
A person's mistake (a missing file, a bad value, a source that cannot be opened) ends the
command with one line on standard error and exit status 2.
"""

import argparse
import importlib
import logging
import sys

from .console import hide_framework_chatter, setup_console

COMMANDS = {
    "train": "fer.commands.train",
    "camera": "fer.commands.camera",
    "analyze": "fer.commands.analyze",
    "serve": "fer.commands.serve",
    "evaluate": "fer.commands.evaluate",
    "ensemble": "fer.commands.ensemble",
    "explain": "fer.commands.explain",
    "compare": "fer.commands.compare",
    "export": "fer.commands.export",
    "calibrate": "fer.commands.calibrate",
}
"""Subcommand name -> module implementing it."""
DESCRIPTION = "Train, evaluate, export and run facial emotion models; each command has its own --help."


def _command_parser(parser, module):
    """Give ``parser`` the command's options, ``--verbose``, and what :func:`main` needs to run it."""
    module.add_arguments(parser)
    parser.add_argument("--verbose", action="store_true",
                        help="also show TensorFlow's and LiteRT's own messages, and tracebacks")
    parser.set_defaults(command_module=module, command_parser=parser)


def _parser_options(module):
    return {"description": getattr(module, "DESCRIPTION", module.HELP), "epilog": getattr(module, "EPILOG", None),
            "formatter_class": argparse.ArgumentDefaultsHelpFormatter}


def build_parser(command=None, prog=None):
    """The parser of ``python -m fer``; with ``prog``, that of the one ``command`` a script runs."""
    if prog is not None:
        module = importlib.import_module(COMMANDS[command])
        parser = argparse.ArgumentParser(prog=prog, **_parser_options(module))
        _command_parser(parser, module)
        return parser
    parser = argparse.ArgumentParser(prog="python -m fer", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        sub = commands.add_parser(name, help=module.HELP, **_parser_options(module))
        if command in (None, name):
            _command_parser(sub, module)
    return parser


def user_errors():
    """The exceptions that mean a person's input cannot work (a line, not a traceback)."""
    from .live.sources import SourceError

    return ValueError, OSError, SourceError


def main(argv=None, command=None, prog=None):
    """Run a command: ``python -m fer``'s own, or ``command`` alone under the name ``prog``."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--verbose" not in argv:
        hide_framework_chatter()  # building a parser may load TensorFlow (train's options name its models)
    if prog is None:  # only the command asked for needs its options (and its imports)
        command = next((arg for arg in argv if not arg.startswith("-")), None)
    args = build_parser(command, prog).parse_args(argv)
    setup_console(args.verbose, getattr(args.command_module, "LOG_LEVEL", logging.INFO))
    try:
        return args.command_module.run(args)
    except user_errors() as error:
        if args.verbose:
            raise
        print(f"{args.command_parser.prog}: error: {error}", file=sys.stderr)
        return 2
