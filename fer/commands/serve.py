"""``main.py`` / ``python -m fer serve``: serve the live demo with waitress (or Flask's own server)."""

import logging
import signal

from ..live.stream import DEFAULT_MAX_VIEWERS
from ..locations import DEFAULT_MODEL_DIR, model_dir_problem

log = logging.getLogger(__name__)

RESERVED_THREADS = 8
"""Waitress threads kept beyond ``--max-viewers`` for the page, the API and health checks:
each open MJPEG stream holds a thread for as long as it is watched."""
DEFAULT_THREADS = DEFAULT_MAX_VIEWERS + RESERVED_THREADS


HELP = "serve the live demo: the page, the annotated video stream and the JSON API"
DESCRIPTION = ("Serve the live facial emotion demo: a web page with the annotated video of --source, a gallery "
               "of sample faces per emotion, and a JSON API (/api/predict, /api/faces, /healthz).")


def add_arguments(parser):
    """Options of ``serve``."""
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on; 0.0.0.0 lets other machines connect")
    parser.add_argument("--port", type=int, default=5000, help="TCP port to listen on (0: any free port)")
    parser.add_argument("--source", default="0", help="what to stream: a webcam index (0), a video file "
                        "(played in a loop), an rtsp:// or http:// stream URL, or a folder of images")
    parser.add_argument("--model", help="model directory (model.json + model.weights.h5) written by "
                        "train.py [default: models/default in the repository]")
    parser.add_argument("--server", default="waitress", choices=["waitress", "flask"],
                        help="waitress is a production WSGI server; flask is the development server")
    parser.add_argument("--max-viewers", type=int, default=DEFAULT_MAX_VIEWERS,
                        help="video streams open at once; one more gets a 503 'busy' answer. Each stream "
                        f"holds a server thread; {RESERVED_THREADS} more threads stay free for the page, the API "
                        "and /healthz")
    parser.add_argument("--threads", type=int, help="waitress worker threads [default: --max-viewers + "
                        f"{RESERVED_THREADS}]; must exceed --max-viewers")


def check_args(args):
    """Reasons the options cannot work, checked before anything heavy loads (empty: fine)."""
    problems = [problem for problem in [model_dir_problem(args.model)] if problem]
    if not 0 <= args.port <= 65535:
        problems.append(f"--port must lie in 0-65535, got {args.port}")
    if args.max_viewers < 1:
        problems.append(f"--max-viewers must be at least 1, got {args.max_viewers}")
    elif args.threads is not None and args.threads <= args.max_viewers:
        problems.append(f"--threads ({args.threads}) must exceed --max-viewers ({args.max_viewers}), or the "
                        "streams leave no thread for the page and the API")
    return problems


def make_server(app, host, port, threads=DEFAULT_THREADS):
    """A waitress server for ``app`` bound to ``host:port`` (not yet running: call ``run()``)."""
    from waitress import create_server

    # send_bytes=1: send each MJPEG part at once. By default waitress holds back writes until
    # 18,000 bytes pile up, and a small frame (a plain error frame) would wait for the next one.
    return create_server(app, host=host, port=port, threads=threads, ident="fer-live", send_bytes=1)


def server_url(host, port):
    """The address a person types into a browser for a server on ``host:port``."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def run(args):
    """Check the options, load the model once, and serve until interrupted."""
    args.model = args.model or str(DEFAULT_MODEL_DIR)
    args.threads = args.threads or args.max_viewers + RESERVED_THREADS
    problems = check_args(args)
    if problems:
        raise ValueError("; ".join(problems))
    from ..live.web import create_app, limit_malloc_arenas

    limit_malloc_arenas()  # before the server's threads first allocate
    try:
        app = create_app(model_dir=args.model, source=args.source, max_viewers=args.max_viewers)
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot load the model in {args.model}: {error}") from error
    try:
        serve(app, args)
    except OSError as error:
        raise OSError(f"cannot serve on {args.host}:{args.port}: {error}") from error
    return 0


def stop_on_signals(first=None):
    """Make Ctrl+C (SIGINT) and SIGTERM (``kill``, ``docker stop``) end the server cleanly.

    Python ignores SIGINT for good when it starts with SIGINT ignored, as a program started in
    the background by a shell script does; SIGTERM would otherwise end it without releasing
    the camera or closing the streams. ``first`` runs before the interrupt: waitress waits
    for its worker threads when interrupted, so the open streams must end before that.
    """
    def interrupt(signum, frame):
        if first is not None:
            first()
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, interrupt)


def serve(app, args):
    """Run the chosen server until Ctrl+C or SIGTERM."""
    broadcaster = app.extensions["fer"]["broadcaster"]
    stop_on_signals(first=broadcaster.close)
    server = None
    try:
        if args.server == "flask":
            log.info("demo at %s (Flask development server)", server_url(args.host, args.port))
            app.run(host=args.host, port=args.port, threaded=True, debug=False, use_reloader=False)
        else:
            server = make_server(app, args.host, args.port, args.threads)
            log.info("demo at %s (waitress; up to %d video streams, %d threads; Ctrl+C stops it)",
                     server_url(args.host, server.effective_port), args.max_viewers, args.threads)
            server.run()  # returns when interrupted: waitress handles KeyboardInterrupt itself
    except KeyboardInterrupt:
        pass
    finally:
        log.info("stopping")
        broadcaster.close()  # ends the open streams, so no worker is left waiting
        if server is not None:
            server.close()
