"""Command line of ``main.py``: serve the live demo with waitress (or Flask's own server)."""

import argparse
import logging
import pathlib
import signal
import sys

log = logging.getLogger(__name__)

DEFAULT_THREADS = 64
"""Waitress worker threads: each MJPEG viewer holds one for as long as it watches."""


def build_parser():
    """The ``main.py`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="main.py", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Serve the live facial emotion demo: a web page with the annotated video of "
        "--source, a gallery of sample faces per emotion, and a JSON API (/api/predict, /api/faces, /healthz).")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on; 0.0.0.0 lets other machines connect")
    parser.add_argument("--port", type=int, default=5000, help="TCP port to listen on (0: any free port)")
    parser.add_argument("--source", default="0", help="what to stream: a webcam index (0), a video file "
                        "(played in a loop), an rtsp:// or http:// stream URL, or a folder of images")
    parser.add_argument("--model", help="model directory (model.json + model.weights.h5) written by "
                        "train.py [default: models/default in the repository]")
    parser.add_argument("--server", default="waitress", choices=["waitress", "flask"],
                        help="waitress is a production WSGI server; flask is the development server")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                        help="waitress worker threads; each open video stream holds one, so allow "
                        "more than the viewers you expect")
    return parser


def check_args(args):
    """Reasons the options cannot work, checked before anything heavy loads (empty: fine)."""
    from .artifacts import ARCHITECTURE_FILE, WEIGHTS_FILE

    problems = []
    model = pathlib.Path(args.model)
    if not model.is_dir():
        problems.append(f"model directory {model} does not exist; train one with train.py or pass --model")
    else:
        missing = [name for name in (ARCHITECTURE_FILE, WEIGHTS_FILE) if not (model / name).is_file()]
        if missing:
            problems.append(f"{model} is not a model directory: no {' or '.join(missing)}")
    if not 0 <= args.port <= 65535:
        problems.append(f"--port must lie in 0-65535, got {args.port}")
    if args.threads < 1:
        problems.append(f"--threads must be at least 1, got {args.threads}")
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


def main(argv=None):
    """Parse options, load the model once, and serve until interrupted; bad input exits 2."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    from .recognizer import DEFAULT_MODEL_DIR

    args.model = args.model or str(DEFAULT_MODEL_DIR)
    problems = check_args(args)
    if problems:
        parser.exit(2, f"main.py: error: {'; '.join(problems)}\n")
    from .web import create_app

    try:
        app = create_app(model_dir=args.model, source=args.source)
    except (OSError, ValueError) as error:
        parser.exit(2, f"main.py: error: cannot load the model in {args.model}: {error}\n")
    try:
        serve(app, args)
    except OSError as error:
        parser.exit(1, f"main.py: error: cannot serve on {args.host}:{args.port}: {error}\n")
    finally:
        app.extensions["fer"]["broadcaster"].close()
    return 0


def stop_on_signals():
    """Make Ctrl+C (SIGINT) and SIGTERM (``kill``, ``docker stop``) end the server cleanly.

    Python ignores SIGINT for good when it starts with SIGINT ignored, as a program started in
    the background by a shell script does; SIGTERM would otherwise end it without releasing
    the camera or closing the streams.
    """
    def interrupt(signum, frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, interrupt)


def serve(app, args):
    """Run the chosen server until Ctrl+C or SIGTERM."""
    stop_on_signals()
    if args.server == "flask":
        log.info("demo at %s (Flask development server)", server_url(args.host, args.port))
        app.run(host=args.host, port=args.port, threaded=True, debug=False, use_reloader=False)
        return
    server = make_server(app, args.host, args.port, args.threads)
    log.info("demo at %s (waitress, %d threads; Ctrl+C stops it)",
             server_url(args.host, server.effective_port), args.threads)
    try:
        server.run()
    except KeyboardInterrupt:
        log.info("stopping")
    finally:
        app.extensions["fer"]["broadcaster"].close()  # ends the open streams, so no worker is left waiting
        server.close()


if __name__ == "__main__":
    sys.exit(main())
