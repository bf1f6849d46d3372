"""What a command prints: the project's own log lines, and the frameworks' chatter only when asked.

TensorFlow, XLA, the LiteRT converter and its interpreter write start-up notes straight to the
process's standard error from C++ ("failed call to cuInit" on any machine without a GPU,
``W0000``/``I0000`` lines, "Created TensorFlow Lite XNNPACK delegate"). A newcomer reads them
as failures. Unless ``verbose``, :func:`setup_console` points the native standard error at
``/dev/null`` and gives Python (logging, tracebacks, error messages) a copy of the real one.
"""

import logging
import os
import sys

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
CHATTY_LOGGERS = ("tensorflow", "absl", "h5py", "matplotlib", "PIL")


def hide_framework_chatter():
    """Keep TensorFlow's and LiteRT's native messages off the console; call it before TensorFlow loads."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    _hide_native_stderr()


def setup_console(verbose=False, level=logging.INFO):
    """Log the project's lines at ``level`` to standard error; hide framework chatter unless ``verbose``.

    Call it once, first thing in a command, before TensorFlow loads (or call
    :func:`hide_framework_chatter` before that).
    """
    if not verbose:
        hide_framework_chatter()
    logging.basicConfig(level=logging.DEBUG if verbose else level, format=LOG_FORMAT, stream=sys.stderr)
    if not verbose:
        for name in CHATTY_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)


def _hide_native_stderr():
    """Send file descriptor 2 to ``/dev/null``; ``sys.stderr`` keeps writing to the terminal."""
    if sys.stderr is not sys.__stderr__ or sys.stderr is None or getattr(sys.stderr, "_fer_console", False):
        return  # already done, or redirected (a test harness capturing output): leave it be
    try:
        sys.stderr.flush()
        original = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    os.dup2(devnull, 2)
    os.close(devnull)
    sys.stderr = sys.__stderr__ = os.fdopen(original, "w", buffering=1, encoding=sys.stderr.encoding,
                                            errors="backslashreplace")
    sys.stderr._fer_console = True
