"""The command lines, one module a command (``HELP``, ``add_arguments``, ``run``): see :mod:`fer.cli`."""
