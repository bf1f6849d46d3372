"""Keeping a long-running process's memory down: glibc's heaps, capped and trimmed."""

import contextlib
import ctypes
import ctypes.util
import functools


def release_free_memory():
    """Hand freed heap memory back to the system (glibc), so that upload peaks do not ratchet up."""
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


def limit_malloc_arenas(arenas=2):
    """Cap glibc's per-thread heaps: with many server threads each keeps its own peak otherwise."""
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(-8, arenas)  # M_ARENA_MAX


@functools.lru_cache(maxsize=1)
def _libc():
    """The C library, looked up once (``find_library`` runs ``ldconfig``)."""
    name = ctypes.util.find_library("c")
    with contextlib.suppress(OSError):
        return ctypes.CDLL(name) if name else None
    return None
