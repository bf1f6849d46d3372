"""Files that appear whole or not at all, and what this process may use of the machine."""

import contextlib
import os
import pathlib


@contextlib.contextmanager
def written_whole(path):
    """Yield a temporary path beside ``path`` to write; it becomes ``path`` only if the block ends
    without an error, and is removed otherwise, so ``path`` never holds a partial file."""
    path = pathlib.Path(path)
    temporary = path.with_name(f".{path.name}.partial")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def usable_cores():
    """The CPU cores this process may run on."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return usable or 1
