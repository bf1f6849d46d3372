"""Archive analysis: ``python -m fer analyze`` with 1 and 2 workers, on Ray, and ``fer``'s ``Video.analyze``.

A folder of clips (640 x 480, two real FER-2013 faces each) is analysed by each engine in turn
as a person would run it, start-up included (each run starts its workers and loads the model):
frames/s is every frame of the folder over the command's wall time (``analysis_frames_per_second``
leaves start-up out: the inputs' own time, per worker), peak memory the largest
resident total of the command and all its workers, sampled every 0.1 s. The `fer` PyPI
package's ``Video.analyze`` (its TFLite model, all faces, no frames or video saved) does the
same clips. Then one long 1280 x 720 clip (``--long-minutes``) goes through one worker, to show
that memory stays flat however long the video.

    python benchmarks/archive_analysis.py --model models/default
"""

import csv
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import bench_common  # noqa: E402

NAME = "archive_analysis"
PEER_SCRIPT = bench_common.BENCHMARKS / "peer_fer_video.py"
SAMPLE_EVERY = 0.1


def write_clips(folder, count, frames, fps, size=(640, 480)):
    """``count`` clips of two real faces (each clip its own pair, so the tables differ)."""
    from clips import load_faces, write_clip

    faces = [gray_face for _, gray_face in load_faces()]
    paths = []
    for index in range(count):
        path = pathlib.Path(folder) / f"clip{index}.mp4"
        write_clip(path, [faces[(2 * index) % len(faces)], faces[(2 * index + 1) % len(faces)]],
                   frames=frames, fps=fps, size=size)
        paths.append(path)
    return paths


def tree_rss_mb(process):
    """Resident MiB of a psutil process and all its descendants (0 once it has gone)."""
    import psutil

    total = 0
    try:
        for member in [process, *process.children(recursive=True)]:
            total += member.memory_info().rss
    except psutil.Error:
        pass
    return total / 2 ** 20


def timed(command):
    """Run ``command``; returns wall seconds, peak resident MiB of its process tree, and its result."""
    import psutil

    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watched, peak = psutil.Process(child.pid), 0.0
    while child.poll() is None:
        peak = max(peak, tree_rss_mb(watched))
        time.sleep(SAMPLE_EVERY)
    stdout, stderr = child.communicate()
    return time.perf_counter() - started, peak, subprocess.CompletedProcess(command, child.returncode, stdout, stderr)


def run_ours(folder, output, model, workers, engine="local", every=1):
    """``python -m fer analyze`` on ``folder``: frames, wall time, frames/s, peak memory."""
    command = [sys.executable, "-m", "fer", "analyze", str(folder), "--output", str(output), "--model", str(model),
               "--workers", str(workers), "--engine", engine, "--every", str(every)]
    seconds, peak, done = timed(command)
    if done.returncode != 0:
        return {"error": f"exit {done.returncode}: " + " | ".join(done.stderr.strip().splitlines()[-3:])}
    with open(pathlib.Path(output) / "summary.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    frames = sum(int(row["frames"]) for row in rows)
    busy = sum(float(row["analysis_seconds"]) for row in rows) / workers  # the inputs' own time, per worker
    return {"inputs": len(rows), "frames": frames, "faces": sum(int(row["faces"]) for row in rows),
            "seconds": round(seconds, 2), "frames_per_second": round(frames / seconds, 1),
            "analysis_frames_per_second": round(frames / busy, 1), "peak_rss_mb": round(peak, 1)}


def run_peer(clips, timeout):
    """``fer``'s ``Video.analyze`` on the same clips, in the peer venv."""
    started = time.perf_counter()
    peer, error = bench_common.run_peer_script(PEER_SCRIPT, clips, timeout)
    if error is not None:
        return {"error": error}
    seconds = time.perf_counter() - started
    return {"frames": peer["frames"], "seconds": round(seconds, 2), "frames_per_second": round(peer["frames"] / seconds, 1),
            "analysis_frames_per_second": round(peer["frames"] / peer["seconds"], 1),
            "peak_rss_mb": peer["peak_rss_mb"], "peer_version": peer["version"]}


def main(argv=None):
    parser = bench_common.base_parser(NAME, __doc__.splitlines()[0])
    bench_common.add_model_option(parser)
    parser.add_argument("--clips", type=bench_common.positive, default=4, help="clips in the folder")
    parser.add_argument("--frames", type=bench_common.positive, default=600, help="frames of each clip")
    parser.add_argument("--fps", type=bench_common.positive_float, default=15.0, help="frame rate of the clips")
    parser.add_argument("--long-minutes", type=float, default=10.0,
                        help="length of the 1280 x 720 clip for the memory run (0: skip it)")
    parser.add_argument("--no-ray", action="store_true", help="leave out the Ray engine")
    parser.add_argument("--no-peer", action="store_true", help="leave out the fer package")
    parser.add_argument("--peer-timeout", type=bench_common.positive, default=1800,
                        help="seconds the fer package may take")
    args = parser.parse_args(argv)
    bench_common.check_model_dir(parser, args.model)
    machine = bench_common.machine_info()
    runs = {}
    with tempfile.TemporaryDirectory(prefix="fer-archive-") as temporary:
        folder = pathlib.Path(temporary) / "clips"
        folder.mkdir()
        clips = write_clips(folder, args.clips, args.frames, args.fps)
        for label, workers, engine in [("local, 1 worker", 1, "local"), ("local, 2 workers", 2, "local"),
                                       ("ray (local), 2 CPUs", 2, "ray")]:
            if engine == "ray" and args.no_ray:
                continue
            runs[label] = run_ours(folder, pathlib.Path(temporary) / label.replace(" ", "_"), args.model, workers,
                                   engine)
            print(f"{label}: {runs[label]}", flush=True)
        if not args.no_peer:
            runs["fer package, Video.analyze"] = run_peer(clips, args.peer_timeout)
            print(f"fer package: {runs['fer package, Video.analyze']}", flush=True)
        one, two = runs["local, 1 worker"], runs["local, 2 workers"]
        if "error" not in one and "error" not in two:
            runs["two_workers_speedup"] = round(two["frames_per_second"] / one["frames_per_second"], 2)
        if args.long_minutes > 0:
            long_folder = pathlib.Path(temporary) / "long"
            long_folder.mkdir()
            frames = int(args.long_minutes * 60 * args.fps)
            write_clips(long_folder, 1, frames, args.fps, size=(1280, 720))
            runs["long clip, 1 worker"] = {"minutes": args.long_minutes, "size": "1280x720",
                                           **run_ours(long_folder, pathlib.Path(temporary) / "long_out",
                                                      args.model, 1)}
            print(f"long clip: {runs['long clip, 1 worker']}", flush=True)
    settings = {key: value for key, value in vars(args).items() if key != "output"}
    settings["model"] = bench_common.shown_path(args.model)
    path = bench_common.write_results(args.output, NAME, settings, runs, machine)
    print(f"{NAME}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
