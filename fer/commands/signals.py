"""Ending a long command cleanly on Ctrl+C or ``kill``, however it was started."""

import signal


def stop_on_signals(first=None):
    """Make Ctrl+C (SIGINT) and SIGTERM (``kill``, ``docker stop``) raise ``KeyboardInterrupt``,
    so the command ends cleanly.

    Python ignores SIGINT for good when it starts with SIGINT ignored, as a program started in
    the background by a shell script does; SIGTERM would otherwise end it without releasing
    the camera, closing the streams or dropping unfinished tables. ``first`` runs before the
    interrupt (the server ends its open streams, which waitress would otherwise wait for).
    """
    def interrupt(signum, frame):
        if first is not None:
            first()
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, interrupt)
