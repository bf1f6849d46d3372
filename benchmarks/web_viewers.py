"""Frames/s each ``/video_feed`` viewer receives, and the server's CPU, with 1, 8 and 32 viewers.

The real server (``main.py``: waitress, one capture thread per source) runs as a subprocess
on a free loopback port, so that its CPU time is its own, streaming a looping 640 x 480 video
file of two real faces paced at ``--clip-fps``. For each viewer count, that many threads read
the multipart MJPEG stream at once for ``--seconds``. Reported per round: frames/s per viewer
(min, mean, max), frames/s the source thread analysed (from ``/healthz``), and the server's
CPU use (100 % = one core). Everything stays on 127.0.0.1 and every loop is bounded.

    python benchmarks/web_viewers.py --model models/default
"""

import contextlib
import http.client
import json
import os
import pathlib
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: make the repository's fer package importable
sys.path.insert(0, str(ROOT / "tests"))  # and the tests' clip maker (clips.py)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import bench_common  # noqa: E402

NAME = "web_viewers"
HOST = "127.0.0.1"
READ_TIMEOUT = 5.0
"""Seconds a viewer waits on its socket before giving up (the server sends a frame at least every second)."""


def free_port():
    """A TCP port free on the loopback address now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def write_two_face_clip(folder, frames, fps):
    """A looping-friendly 640 x 480 ``.mp4`` of two different real faces."""
    from clips import load_faces, write_clip

    faces = [gray_face for name, gray_face in load_faces() if name in ("happy_1", "surprise_1")]
    path = pathlib.Path(folder) / "faces2.mp4"
    write_clip(path, faces, frames=frames, fps=fps)
    return path


def cpu_seconds(pid):
    """User + system CPU seconds used so far by process ``pid`` (psutil, else ``/proc/<pid>/stat``)."""
    try:
        import psutil
    except ImportError:
        fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def resident_mb(pid):
    """Resident memory of process ``pid`` in MiB, from ``/proc`` (None where there is none)."""
    try:
        for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


class Server:
    """``main.py`` serving ``source`` on a free loopback port, as a subprocess; a context manager."""

    def __init__(self, model_dir, source, log_path, startup_timeout, extra_args=(), token=None, tls=False):
        self.port = free_port()
        self.url = f"{'https' if tls else 'http'}://{HOST}:{self.port}"
        self.log_path = pathlib.Path(log_path)
        self.startup_timeout = startup_timeout
        access = [*(["--token", token] if token else []), *(["--tls", "self-signed"] if tls else [])]
        self.command = [sys.executable, str(ROOT / "main.py"), "--host", HOST, "--port", str(self.port),
                        "--source", str(source), "--model", str(model_dir), *access, *extra_args]
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        """What every request sends: the bearer token, if the server needs one."""
        self.ssl_context = trusting_context() if tls else None
        # The self-signed certificate goes to a cache folder beside the log, not the user's own.
        self.environment = dict(os.environ, XDG_CACHE_HOME=str(self.log_path.parent / "cache"))
        self.process = None

    def connection(self, timeout=READ_TIMEOUT):
        """A new HTTP (or HTTPS) connection to the server."""
        if self.ssl_context is None:
            return http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        return http.client.HTTPSConnection(HOST, self.port, timeout=timeout, context=self.ssl_context)

    def open(self, path, data=None, headers=None, timeout=READ_TIMEOUT):
        """``urlopen`` of ``path`` on the server, with the token (raises ``HTTPError`` for 4xx/5xx)."""
        request = urllib.request.Request(self.url + path, data=data, headers={**self.headers, **(headers or {})})
        return urllib.request.urlopen(request, timeout=timeout, context=self.ssl_context)

    def __enter__(self):
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(self.command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                            env=self.environment)
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def _wait_until_ready(self):
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"main.py exited with {self.process.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                self.health()
                return
            time.sleep(0.5)
        raise TimeoutError(f"main.py did not answer /healthz within {self.startup_timeout} s:\n{self.log_tail()}")

    def health(self):
        """The server's ``/healthz`` JSON."""
        with self.open("/healthz") as response:
            return json.load(response)

    def log_tail(self, lines=15):
        """The last lines the server printed."""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self):
        """Ctrl+C the server (it releases its source), then terminate or kill it if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        for stop, wait in ((lambda: self.process.send_signal(signal.SIGINT), 15),
                           (self.process.terminate, 5), (self.process.kill, 5)):
            stop()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(wait)
                return


def trusting_context():
    """An SSL context that accepts the server's self-signed certificate (loopback benchmarks only)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def watch_stream(server, seconds, tally, start=None):
    """One viewer: read ``/video_feed`` parts for ``seconds`` (after ``start`` fires); fill ``tally``.

    Counts live frames (a new frame number each) and waiting frames (number 0). ``fps`` is
    the live frames after the first over the time since the first arrived: the first is the
    frame already published when the viewer connected. Failures are recorded in
    ``tally["error"]``, not raised.
    """
    tally.update(frames=0, waiting=0, fps=None, error=None)
    first_at = None
    if start is not None:
        start.wait(READ_TIMEOUT)
    connection = server.connection()
    began = time.monotonic()
    try:
        connection.request("GET", "/video_feed", headers=server.headers)
        response = connection.getresponse()
        if response.status != 200:
            raise OSError(f"/video_feed answered {response.status}")
        deadline = began + seconds
        while time.monotonic() < deadline:
            number = read_part(response)
            if number == 0:
                tally["waiting"] += 1
                continue
            tally["frames"] += 1
            first_at = first_at or time.monotonic()
    except (OSError, http.client.HTTPException, ValueError) as error:
        tally["error"] = f"{type(error).__name__}: {error}"
    finally:
        connection.close()
    watched = time.monotonic() - first_at if first_at else 0.0
    if tally["frames"] > 1 and watched > 0:
        tally["fps"] = (tally["frames"] - 1) / watched


def read_part(response):
    """Read one MJPEG part from the stream; returns its ``X-Frame-Number`` (0 for waiting frames)."""
    line = response.readline()
    while line.strip() == b"":  # the blank line between parts
        if not line:
            raise OSError("stream ended")
        line = response.readline()
    if not line.startswith(b"--"):
        raise ValueError(f"expected a multipart boundary, got {line[:40]!r}")
    headers = {}
    while True:
        line = response.readline()
        if not line:
            raise OSError("stream ended inside part headers")
        if not line.strip():
            break
        key, _, value = line.decode("latin-1").partition(":")
        headers[key.strip().lower()] = value.strip()
    jpeg = response.read(int(headers["content-length"]))
    if not jpeg.startswith(b"\xff\xd8"):
        raise ValueError("part is not a JPEG")
    return int(headers.get("x-frame-number", 0))


def wait_for_no_viewers(server, timeout=READ_TIMEOUT):
    """Wait until the server has let go of every stream of the round before; raises ``TimeoutError``.

    A viewer that hangs up is released when the server next writes to it (one frame later), so a
    round started at once could find the last round's streams still counted against ``--max-viewers``.
    """
    deadline = time.monotonic() + timeout
    while (open_streams := server.health()["source"]["viewers"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    if open_streams:
        raise TimeoutError(f"the server still counts {open_streams} open stream(s) {timeout} s after the round before")


def measure_round(server, viewers, seconds):
    """``viewers`` concurrent viewers for ``seconds``: their frames/s, the source's, the server's CPU."""
    wait_for_no_viewers(server)
    tallies = [{} for _ in range(viewers)]
    start = threading.Event()
    threads = [threading.Thread(target=watch_stream, args=(server, seconds, tally, start), daemon=True)
               for tally in tallies]
    for thread in threads:
        thread.start()
    before, cpu_before, began = server.health()["source"], cpu_seconds(server.process.pid), time.monotonic()
    start.set()
    for thread in threads:
        thread.join(seconds + 3 * READ_TIMEOUT)
    wall = time.monotonic() - began
    after, cpu_after = server.health()["source"], cpu_seconds(server.process.pid)
    rates = [tally["fps"] if tally.get("fps") is not None else 0.0 for tally in tallies]
    errors = [tally["error"] for tally in tallies if tally.get("error")]
    return {"viewers": viewers, "seconds": round(wall, 2),
            "viewer_fps": {"min": round(min(rates), 2) if rates else None,
                           "mean": round(sum(rates) / len(rates), 2) if rates else None,
                           "max": round(max(rates), 2) if rates else None},
            "source_fps": round((after["frames_analysed"] - before["frames_analysed"]) / wall, 2),
            "analyses_per_frame": after["analyses_per_frame"],
            "server_cpu_percent": round(100.0 * (cpu_after - cpu_before) / wall, 1),
            "server_rss_mb": resident_mb(server.process.pid),
            "waiting_frames": sum(tally.get("waiting", 0) for tally in tallies),
            "error_frames": after["error_frames"] - before["error_frames"],
            "failed_viewers": len(errors), "viewer_errors": sorted(set(errors))[:5],
            "still_running_viewers": sum(thread.is_alive() for thread in threads)}


def build_parser():
    """The command line."""
    parser = bench_common.base_parser(NAME, __doc__.split("\n\n")[0])
    bench_common.add_model_option(parser)
    parser.add_argument("--viewers", type=bench_common.positive, nargs="+", default=[1, 8, 32],
                        help="concurrent viewers, one round each")
    parser.add_argument("--seconds", type=bench_common.positive_float, default=15.0,
                        help="how long each round's viewers watch")
    parser.add_argument("--clip-fps", type=bench_common.positive_float, default=30.0,
                        help="frame rate of the source video (the server paces files to it)")
    parser.add_argument("--warmup", type=float, default=3.0,
                        help="seconds one viewer watches first, so the capture thread is running")
    parser.add_argument("--startup-timeout", type=bench_common.positive_float, default=180.0,
                        help="seconds the server may take to load its model and answer")
    return parser


def main(argv=None):
    """Start the server, run one round per viewer count, stop it, write the results JSON."""
    parser = build_parser()
    args = parser.parse_args(argv)
    machine = bench_common.machine_info()  # the load before this run adds its own
    bench_common.check_model_dir(parser, args.model)
    runs = []
    with tempfile.TemporaryDirectory(prefix="fer-bench-web-") as folder:
        clip = write_two_face_clip(folder, frames=int(args.clip_fps * 10), fps=args.clip_fps)
        with Server(args.model, clip, pathlib.Path(folder) / "server.log", args.startup_timeout) as server:
            if args.warmup > 0:
                watch_stream(server, args.warmup, {})
            for viewers in args.viewers:
                run = measure_round(server, viewers, args.seconds)
                runs.append(run)
                print(f"{viewers:>3} viewer(s): {run['viewer_fps']['mean']} frames/s each (min "
                      f"{run['viewer_fps']['min']}), source {run['source_fps']} frames/s, server CPU "
                      f"{run['server_cpu_percent']} %", file=sys.stderr)
    settings = {"model": bench_common.shown_path(args.model), "source": "mp4v 640 x 480, 2 faces, looping",
                "clip_fps": args.clip_fps, "seconds_per_round": args.seconds, "viewers": args.viewers,
                "server": "main.py (waitress) on 127.0.0.1"}
    path = bench_common.write_results(args.output, NAME, settings, runs, machine)
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
