"""The inputs of an archive analysis: files and folders given, searched, named for their tables."""

import dataclasses
import pathlib

from ..training.data import IMAGE_SUFFIXES

VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv",
                            ".3gp", ".ts", ".mts", ".ogv"})
"""Video files a folder search picks up (a file given by name is tried whatever its suffix)."""


class InputError(ValueError):
    """Inputs that cannot be analysed as given (missing, none found, two with one table name)."""


@dataclasses.dataclass(frozen=True)
class ArchiveInput:
    """One file to analyse: its ``path`` and ``name``, the path its table takes under the output folder."""

    path: pathlib.Path
    name: str

    @property
    def is_picture(self):
        """Whether the file is read as one picture (by its suffix) rather than as a video."""
        return self.path.suffix.lower() in IMAGE_SUFFIXES

    def table_path(self, output, table_format):
        """Where its table goes: ``output/<name>.<format>`` (the whole name kept: a.mp4 and a.avi never collide)."""
        return pathlib.Path(output) / f"{self.name}.{table_format}"


def find_inputs(given, output=None):
    """The inputs in ``given`` (files and folders), each folder searched recursively, in name order.

    A file given alone is named by its file name; a file found in a folder by its path relative
    to that folder. Files under ``output`` are left out. Raises :class:`InputError`.
    """
    output = pathlib.Path(output).resolve() if output is not None else None
    inputs, named = [], {}
    for entry in given:
        path = pathlib.Path(entry).expanduser()
        if path.is_dir():
            found = [(file, file.relative_to(path).as_posix()) for file in sorted(path.rglob("*"))
                     if file.is_file() and file.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES
                     and not _inside(file, output)]
            if not found:
                raise InputError(f"{entry}: no videos or pictures in this folder or below it")
        elif path.is_file():
            found = [(path, path.name)]
        else:
            raise InputError(f"{entry}: no such file or folder")
        for file, name in found:
            if name in named:
                raise InputError(f"{named[name]} and {file} would both write the table {name}: give their "
                                 "common folder instead")
            named[name] = file
            inputs.append(ArchiveInput(file, name))
    return inputs


def _inside(file, folder):
    """Whether ``file`` lies in ``folder`` (``None``: no folder)."""
    return folder is not None and file.resolve().is_relative_to(folder)
