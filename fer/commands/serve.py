"""``main.py`` / ``python -m fer serve``: serve the live demo with waitress, cheroot for HTTPS, or Flask's own server."""

import logging
import os
import ssl
import sys

from ..live.addresses import is_loopback, local_addresses, url_host
from ..live.stream import DEFAULT_MAX_VIEWERS
from ..live import tls
from .detection import add_detector_arguments, detection_problems, detector_from
from .signals import stop_on_signals
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
                        help="address to listen on; 0.0.0.0 lets other machines connect (then a token is required)")
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
    parser.add_argument("--threads", type=int, help="server worker threads [default: --max-viewers + "
                        f"{RESERVED_THREADS}]; must exceed --max-viewers")
    add_detector_arguments(parser)
    access = parser.add_argument_group("access", "who may watch: beyond loopback every route needs a token")
    access.add_argument("--token", help="the access token [default: $FER_TOKEN; beyond loopback without either, "
                        "a random one, printed in the address to open]; on loopback, required only if given")
    access.add_argument("--no-token", action="store_true",
                        help="serve beyond loopback without a token: anyone who reaches the port sees the camera")
    access.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                        help="a Host name to serve besides localhost, 127.0.0.1 and [::1] when no token is in "
                        "force (a reverse proxy's or a LAN name); repeatable")
    access.add_argument("--tls", choices=["self-signed"], help="serve HTTPS with a self-signed certificate for this "
                        "machine's names, made once and kept in ~/.cache/fer/tls (phones need HTTPS for the camera)")
    access.add_argument("--certfile", help="serve HTTPS with this certificate (PEM; with --keyfile)")
    access.add_argument("--keyfile", help="the private key of --certfile (PEM)")


def check_args(args):
    """Reasons the options cannot work, checked before anything heavy loads (empty: fine)."""
    problems = [problem for problem in [model_dir_problem(args.model)] if problem]
    problems += detection_problems(args)
    if not 0 <= args.port <= 65535:
        problems.append(f"--port must lie in 0-65535, got {args.port}")
    if args.max_viewers < 1:
        problems.append(f"--max-viewers must be at least 1, got {args.max_viewers}")
    elif args.threads is not None and args.threads <= args.max_viewers:
        problems.append(f"--threads ({args.threads}) must exceed --max-viewers ({args.max_viewers}), or the "
                        "streams leave no thread for the page and the API")
    from ..live.access import MIN_TOKEN_LENGTH  # Flask, but not TensorFlow

    if args.token is not None and args.no_token:
        problems.append("--token and --no-token contradict each other")
    elif args.token is not None and len(args.token) < MIN_TOKEN_LENGTH:
        problems.append(f"--token must have at least {MIN_TOKEN_LENGTH} characters, or anyone may guess it")
    if (args.certfile is None) != (args.keyfile is None):
        problems.append("--certfile and --keyfile go together")
    elif args.certfile is not None:
        if args.tls:
            problems.append("--tls self-signed and --certfile/--keyfile exclude each other")
        else:
            problems.extend(tls.check_files(args.certfile, args.keyfile))
    return problems


def access_policy(args):
    """The access policy the options ask for (the token: ``--token``, else ``$FER_TOKEN``, else made here)."""
    from ..live import access

    token = args.token if args.token is not None else None if args.no_token else os.environ.get("FER_TOKEN") or None
    policy, made = access.policy_for(args.host, token=token, no_token=args.no_token, allow_hosts=args.allow_host)
    if args.no_token and not is_loopback(args.host):
        log.warning("serving %s without a token: anyone who can reach this port can watch the camera and use "
                    "the API", args.host)
    elif made:
        log.info("a random access token was made for this run (--token or $FER_TOKEN sets your own)")
    return policy


def tls_files(args):
    """The certificate and key to serve HTTPS with, or ``None`` for plain HTTP."""
    if args.certfile is not None:
        return tls.TLSFiles(args.certfile, args.keyfile)
    if args.tls == "self-signed":
        return tls.self_signed(tls.certificate_names(args.host))
    return None


def make_server(app, host, port, threads=DEFAULT_THREADS, tls_files=None):
    """A server for ``app`` bound to ``host:port`` (not yet running: call ``run()``).

    waitress for plain HTTP; cheroot for HTTPS with ``tls_files`` (a :class:`fer.live.tls.TLSFiles`),
    since waitress has no TLS. Both run one process with ``threads`` worker threads.
    """
    if tls_files is not None:
        return HTTPSServer(app, host, port, threads, tls_files)
    from waitress import create_server

    # send_bytes=1: send each MJPEG part at once. By default waitress holds back writes until
    # 18,000 bytes pile up, and a small frame (a plain error frame) would wait for the next one.
    return create_server(app, host=host, port=port, threads=threads, ident="fer-live", send_bytes=1)


class HTTPSServer:
    """cheroot serving ``app`` over HTTPS, with the ``run`` / ``close`` / ``effective_port`` of waitress's server."""

    def __init__(self, app, host, port, threads, tls_files):
        from cheroot import wsgi
        from cheroot.ssl.builtin import BuiltinSSLAdapter

        self.server = wsgi.Server((host, port), app, numthreads=threads, server_name="fer-live")
        self.server.ssl_adapter = BuiltinSSLAdapter(str(tls_files.certfile), str(tls_files.keyfile))
        self.server.error_log = self.error_log
        self.server.prepare()  # binds now, as waitress does, so the port is known before run()

    @staticmethod
    def error_log(msg="", level=logging.INFO, traceback=False):
        """cheroot's messages through ``logging``: a viewer who hangs up or a client that drops the
        TLS handshake is routine (debug), not a traceback on the console."""
        error = sys.exc_info()[1]
        if (error is None and msg.startswith("socket.error")) or isinstance(error, (ConnectionError, ssl.SSLError)):
            log.debug("connection ended: %s", error or msg)
        else:
            log.log(level, "cheroot: %s", msg, exc_info=error if traceback else None)

    @property
    def effective_port(self):
        """The port bound (the one the system chose for port 0)."""
        return self.server.bind_addr[1]

    def run(self):
        """Serve until :meth:`close` (or an interrupt in the calling thread)."""
        self.server.serve()

    def close(self):
        """Stop accepting, end the worker threads and close the socket."""
        self.server.stop()


def server_urls(host, port, scheme="http", token=None):
    """The addresses a person types into a browser for a server on ``host:port``, this machine's first.

    A server on all addresses is also listed at this machine's network addresses (for a phone).
    """
    query = f"?token={token}" if token else ""
    if host in ("0.0.0.0", "::", ""):
        hosts = ["127.0.0.1"] + local_addresses()
    else:
        hosts = [host]
    return [f"{scheme}://{url_host(name)}:{port}/{query}" for name in hosts]


def run(args):
    """Check the options, load the model once, and serve until interrupted."""
    args.model = args.model or str(DEFAULT_MODEL_DIR)
    args.threads = args.threads or args.max_viewers + RESERVED_THREADS
    problems = check_args(args)
    if problems:
        raise ValueError("; ".join(problems))
    from ..live.memory import limit_malloc_arenas
    from ..live.web import create_app

    policy = access_policy(args)
    limit_malloc_arenas()  # before the server's threads first allocate
    try:
        detector = detector_from(args)
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot load the {args.detector} face detector: {error}") from error
    try:
        app = create_app(model_dir=args.model, source=args.source, max_viewers=args.max_viewers, access=policy,
                         detector=detector, align=args.align, int8=args.int8)
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot load the model in {args.model}: {error}") from error
    try:
        serve(app, args, tls_files(args), policy.token)
    except OSError as error:
        raise OSError(f"cannot serve on {args.host}:{args.port}: {error}") from error
    return 0


def announce(args, port, scheme, token, server_name):
    """Log where to open the demo (the token in the address, if one is needed)."""
    urls = server_urls(args.host, port, scheme, token)
    log.info("demo at %s (%s; up to %d video streams, %d threads; Ctrl+C stops it)", urls[0], server_name,
             args.max_viewers, args.threads)
    for url in urls[1:]:
        log.info("from another device on this network: %s", url)


def serve(app, args, tls_files=None, token=None):
    """Run the chosen server until Ctrl+C or SIGTERM (HTTPS with ``tls_files``)."""
    broadcaster = app.extensions["fer"]["broadcaster"]
    stop_on_signals(first=broadcaster.close)
    scheme = "https" if tls_files is not None else "http"
    server = None
    try:
        if args.server == "flask":
            announce(args, args.port, scheme, token, "Flask development server")
            ssl_context = (str(tls_files.certfile), str(tls_files.keyfile)) if tls_files is not None else None
            app.run(host=args.host, port=args.port, threaded=True, debug=False, use_reloader=False,
                    ssl_context=ssl_context)
        else:
            server = make_server(app, args.host, args.port, args.threads, tls_files)
            announce(args, server.effective_port, scheme, token, "cheroot" if tls_files is not None else "waitress")
            server.run()  # returns when interrupted: waitress handles KeyboardInterrupt itself
    except KeyboardInterrupt:
        pass
    finally:
        log.info("stopping")
        broadcaster.close()  # ends the open streams, so no worker is left waiting
        if server is not None:
            server.close()
