"""A real demo server in a thread of the test process, started on a free port and stopped cleanly."""

import contextlib
import threading

from fer.commands.serve import make_server


@contextlib.contextmanager
def running(app, host="127.0.0.1", threads=32, tls_files=None):
    """``app`` served on a free port of ``host`` (waitress, or cheroot with ``tls_files``); yields the server.

    On leaving, the broadcaster ends every open stream, then the server stops.
    """
    server = make_server(app, host, 0, threads, tls_files)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        app.extensions["fer"]["broadcaster"].close()
        stop(server)
        thread.join(5)
    assert not thread.is_alive(), "the server's loop did not stop"  # only when the test itself passed


def stop(server):
    """Stop a server whose ``run()`` is in another thread.

    cheroot's stop is made for that. waitress has none: closing its sockets from here races
    with the ``select()`` of its loop (``OSError: Bad file descriptor`` in that thread) and with
    workers waking the loop through its trigger. So its workers finish first, then the loop
    closes every socket itself, which ends it.

    The closing is queued and the trigger pulled under the trigger's lock. ``pull_trigger``
    queues first and writes after, so a loop already woken by a worker's last response could
    run the closing in between, trigger included, and the write would then hit a closed pipe.
    """
    if not hasattr(server, "task_dispatcher"):
        server.close()
        return
    from waitress import wasyncore

    server.task_dispatcher.shutdown()
    trigger = server.trigger
    with trigger.lock:  # the loop runs queued work under this lock, so not before the write below
        trigger.thunks.append(lambda: wasyncore.close_all(server._map))
        trigger._physical_pull()
