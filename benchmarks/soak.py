"""A bounded soak of the live server on loopback: threads, memory and health-check latency over time.

``main.py`` runs as a subprocess on a free 127.0.0.1 port, streaming a looping clip of two real
faces. The soak goes through phases, each a fault a long-running demo meets:

1. ``watch``: viewers join and leave in waves while the clip plays;
2. ``source lost``: the clip disappears while one viewer watches, then the viewer leaves;
3. ``source back``: with nobody watching, the clip returns (no frame should be analysed);
4. ``crowd``: many viewers open the stream at once (beyond ``--max-viewers`` they get a 503);
5. ``uploads``: bursts of concurrent uploads of a 6000 x 6000 PNG;
6. ``rest``: nothing, to see what memory the server keeps.

Twice a second it records the server's threads and resident memory and times ``/healthz``.
At the end it stops the server with SIGTERM and times the exit. Every loop is bounded.

    python benchmarks/soak.py --model models/default
"""

import contextlib
import http.client
import pathlib
import shutil
import signal
import sys
import tempfile
import threading
import time
import urllib.request

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bench_common  # noqa: E402
import web_viewers  # noqa: E402

NAME = "soak"
SAMPLE_EVERY = 0.5
RETRY_LONGEST = 10.0
"""The server's longest pause between attempts to open a failing source, in seconds."""


def server_threads(pid):
    """Threads of process ``pid`` now."""
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return None


class Sampler(threading.Thread):
    """Records threads, resident MiB and the ``/healthz`` latency of the server, phase by phase."""

    def __init__(self, server):
        super().__init__(daemon=True)
        self.server = server
        self.phase = "start"
        self.samples = []
        self.done = threading.Event()

    def run(self):
        started = time.monotonic()
        while not self.done.wait(SAMPLE_EVERY):
            began = time.monotonic()
            try:
                health = self.server.health()
                latency, analysed = time.monotonic() - began, health["source"].get("frames_analysed")
            except OSError:
                latency, analysed = None, None  # no answer within the timeout: recorded as such
            pid = self.server.process.pid
            self.samples.append({"t": round(began - started, 2), "phase": self.phase,
                                 "threads": server_threads(pid), "rss_mb": web_viewers.resident_mb(pid),
                                 "healthz_ms": None if latency is None else round(latency * 1000, 1),
                                 "frames_analysed": analysed})


def watch(server, seconds, results, index, all_answered):
    """One viewer: waits until every viewer of the crowd has its answer, then reads for ``seconds``.

    Holding the stream open until the whole crowd has been answered keeps an early viewer from
    leaving (and freeing its place) before a late one asks, so the count of 503s is exact.
    """
    parts, status = 0, None
    with contextlib.suppress(OSError, http.client.HTTPException):
        try:
            connection = server.connection()
            connection.request("GET", "/video_feed", headers=server.headers)
            response = connection.getresponse()
            status = response.status
        finally:
            with contextlib.suppress(threading.BrokenBarrierError):
                all_answered.wait(2 * web_viewers.READ_TIMEOUT)
        deadline = time.monotonic() + seconds
        while status == 200 and time.monotonic() < deadline:
            if not response.read(4096):
                break
            parts += 1
        connection.close()
    results[index] = {"status": status, "reads": parts}


def viewers(server, count, seconds):
    """``count`` viewers at once for ``seconds``; returns how many were let in and turned away."""
    results, all_answered = [None] * count, threading.Barrier(count)
    threads = [threading.Thread(target=watch, args=(server, seconds, results, index, all_answered))
               for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 4 * web_viewers.READ_TIMEOUT)
    statuses = [result["status"] if result else None for result in results]
    return {"viewers": count, "streamed": statuses.count(200), "busy_503": statuses.count(503),
            "failed": sum(status not in (200, 503) for status in statuses)}


def large_png():
    """A 6000 x 6000 picture that is small on disk and 36 megapixels unpacked."""
    import cv2

    picture = np.zeros((6000, 6000), np.uint8)
    cv2.circle(picture, (3000, 3000), 2000, 255, -1)
    return cv2.imencode(".png", picture)[1].tobytes()


def upload_bursts(server, bursts, size):
    """``bursts`` rounds of ``size`` concurrent uploads; counts of each HTTP status."""
    body, statuses = large_png(), []

    def upload():
        try:
            with server.open("/api/predict", data=body, headers={"Content-Type": "image/png"}, timeout=120) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)
        except OSError:
            statuses.append(None)

    for _ in range(bursts):
        threads = [threading.Thread(target=upload) for _ in range(size)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(150)
    return {str(status): statuses.count(status) for status in sorted(set(statuses), key=str)}


def phase_summary(samples, phase):
    """Peaks of one phase: threads, resident memory, slowest ``/healthz`` (None: an answer never came)."""
    rows = [sample for sample in samples if sample["phase"] == phase]
    if not rows:
        return {}
    latencies = [row["healthz_ms"] for row in rows]
    answered = [value for value in latencies if value is not None]
    return {"seconds": round(rows[-1]["t"] - rows[0]["t"] + SAMPLE_EVERY, 1),
            "max_threads": max(row["threads"] for row in rows),
            "max_rss_mb": max(row["rss_mb"] for row in rows), "end_rss_mb": rows[-1]["rss_mb"],
            "slowest_healthz_ms": max(answered) if answered else None,
            "healthz_unanswered": latencies.count(None)}


def soak(args, folder):
    """Run the phases; returns the settings, the per-phase figures and every sample."""
    clip = web_viewers.write_two_face_clip(folder, frames=60, fps=args.clip_fps)
    source = pathlib.Path(folder) / "source.mp4"
    shutil.copy(clip, source)
    extra = ["--max-viewers", str(args.max_viewers)] if args.max_viewers else []
    figures = {}
    token = "soak-benchmark-token" if args.token else None
    with web_viewers.Server(args.model, source, pathlib.Path(folder) / "server.log", 180, extra, token=token,
                            tls=args.tls) as server:
        sampler = Sampler(server)
        sampler.start()

        sampler.phase = "watch"
        figures["watch"] = [viewers(server, count, args.phase_seconds / 3) for count in (1, 4, 2)]

        sampler.phase = "source lost"
        source.unlink()
        figures["source lost"] = viewers(server, 1, args.phase_seconds / 2)

        sampler.phase = "source back"
        time.sleep(args.idle_timeout + 2)  # every viewer has left and the server's idle time has passed
        before = server.health()["source"]["frames_analysed"]
        shutil.copy(clip, source)
        time.sleep(max(args.phase_seconds / 2, 2 * RETRY_LONGEST + 5))  # two of the server's longest retry pauses
        figures["source back"] = {"frames_analysed_without_viewers": server.health()["source"]["frames_analysed"]
                                  - before, "running": server.health()["source"]["running"]}

        sampler.phase = "crowd"
        figures["crowd"] = viewers(server, args.crowd, args.phase_seconds)

        sampler.phase = "uploads"
        figures["uploads"] = upload_bursts(server, args.bursts, args.burst_size)

        sampler.phase = "rest"
        time.sleep(args.phase_seconds / 2)
        sampler.done.set()
        sampler.join(10)

        stopping = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(60)
            figures["shutdown_seconds"] = round(time.monotonic() - stopping, 2)
        except Exception:  # noqa: BLE001 - still running after a minute: say so, then stop it
            figures["shutdown_seconds"] = None
    phases = {phase: phase_summary(sampler.samples, phase)
              for phase in ("watch", "source lost", "source back", "crowd", "uploads", "rest")}
    return figures, phases, sampler.samples


def main(argv=None):
    parser = bench_common.base_parser(NAME, __doc__.splitlines()[0])
    bench_common.add_model_option(parser)
    parser.add_argument("--phase-seconds", type=bench_common.positive_float, default=20.0,
                        help="length of each phase (the whole soak takes about six of them)")
    parser.add_argument("--crowd", type=bench_common.positive, default=64, help="viewers of the crowd phase")
    parser.add_argument("--max-viewers", type=int, default=32, help="the server's --max-viewers (0: do not pass "
                        "the option, for servers without it)")
    parser.add_argument("--bursts", type=bench_common.positive, default=4, help="bursts of large uploads")
    parser.add_argument("--burst-size", type=bench_common.positive, default=8, help="uploads in each burst")
    parser.add_argument("--clip-fps", type=bench_common.positive_float, default=15.0, help="frame rate of the clip")
    parser.add_argument("--idle-timeout", type=float, default=5.0, help="the server's idle time before it stops "
                        "its capture thread")
    parser.add_argument("--token", action="store_true", help="start the server with --token; every request "
                        "sends it as a bearer header")
    parser.add_argument("--tls", action="store_true", help="serve HTTPS (--tls self-signed) and watch over it")
    args = parser.parse_args(argv)
    bench_common.check_model_dir(parser, args.model)
    machine = bench_common.machine_info()
    with tempfile.TemporaryDirectory(prefix="fer-soak-") as folder:
        figures, phases, samples = soak(args, folder)
    settings = {key: value for key, value in vars(args).items() if key != "output"}
    settings["model"] = bench_common.shown_path(args.model)
    path = bench_common.write_results(args.output, NAME, settings, {"figures": figures, "phases": phases,
                                                                     "samples": samples}, machine)
    print(f"soak: {path}")
    for phase, summary in phases.items():
        print(f"  {phase:<12} {summary}")
    print(f"  figures      {figures}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
