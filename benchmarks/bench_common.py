"""What every benchmark script shares: the machine description, frame statistics and the results file.

Imports only the standard library and NumPy, never this repository's ``fer`` package:
``peer_fer.py`` imports it too, from the virtual environment where ``fer`` is the PyPI package.
"""

import argparse
import datetime
import json
import os
import pathlib
import platform
import subprocess
import tempfile

import numpy as np

BENCHMARKS = pathlib.Path(__file__).resolve().parent
ROOT = BENCHMARKS.parent
RESULTS_DIR = BENCHMARKS / "results"
DEFAULT_MODEL_DIR = ROOT / "models" / "default"
PEER_VENV = BENCHMARKS / ".venv-peer"

STAGES = ("decode", "detect", "classify", "other", "analyze", "draw", "encode")
"""Per-frame stages in pipeline order. ``analyze`` is detect + classify + other (the part a peer
library does in one call); ``other`` is what ``analyze`` spends outside detection and the model:
grey conversion, crops, tracking and building the result dicts."""

ANALYZE_PARTS = ("detect", "classify", "other")


def cpu_model():
    """The CPU's model name from ``/proc/cpuinfo`` (``platform.processor()`` elsewhere)."""
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def library_versions():
    """Versions of the libraries whose speed is measured; a missing one is left out."""
    versions = {"python": platform.python_version(), "numpy": np.__version__}
    for name, module in (("tensorflow", "tensorflow"), ("keras", "keras"), ("opencv", "cv2")):
        try:
            versions[name] = __import__(module).__version__
        except ImportError:
            continue
    return versions


def machine_info():
    """The machine a result was measured on, with the load when the run started.

    A 1-minute load average near or above ``usable_cores`` means other work shared the CPU
    and the figures understate this code's speed.
    """
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": cpu_model(), "logical_cores": os.cpu_count(), "usable_cores": usable,
            "system": f"{platform.system()} {platform.release()}",
            "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            **library_versions()}


def base_parser(name, description):
    """An argument parser with ``--output`` defaulting to ``benchmarks/results/<name>.json``."""
    parser = argparse.ArgumentParser(prog=f"benchmarks/{name}.py", description=description,
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--output", type=pathlib.Path, default=RESULTS_DIR / f"{name}.json", metavar="FILE",
                        help="where to write the results JSON")
    return parser


def add_model_option(parser):
    """``--model DIR``, defaulting to ``models/default``."""
    parser.add_argument("--model", type=pathlib.Path, default=DEFAULT_MODEL_DIR, metavar="DIR",
                        help="model directory written by train.py")


def check_model_dir(parser, directory):
    """Stop with a usage error unless ``directory`` holds a model written by train.py."""
    for name in ("model.json", "model.weights.h5"):
        if not (pathlib.Path(directory) / name).is_file():
            parser.error(f"{directory} is not a model directory (no {name}): train one with train.py, or pass "
                         "--model DIR, e.g. one from: python train.py --data tests/fixtures/fer2013_sample.csv.gz "
                         "--epochs 1 --output /tmp/bench_model")


def positive(text):
    """argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_float(text):
    """argparse type: a number above 0."""
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {value}")
    return value


def shown_path(path):
    """``path`` relative to the repository when inside it, else its file name (no machine's folders in results)."""
    path = pathlib.Path(path).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


def write_results(path, name, settings, runs, machine):
    """Write ``{"benchmark", "machine", "settings", "runs"}`` as JSON to ``path``; returns the path.

    ``machine`` is :func:`machine_info` taken as the run started, before its own load.
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    results = {"benchmark": name, "machine": machine, "settings": settings, "runs": runs}
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path


def milliseconds(seconds):
    """Seconds as milliseconds rounded to 0.01."""
    return round(float(seconds) * 1000.0, 2)


def latency_summary(seconds):
    """Mean, median, 95th percentile and worst of per-item times, in milliseconds."""
    values = np.asarray(seconds, np.float64)
    if values.size == 0:
        return {"mean_ms": None, "p50_ms": None, "p95_ms": None, "max_ms": None}
    return {"mean_ms": milliseconds(values.mean()), "p50_ms": milliseconds(np.percentile(values, 50)),
            "p95_ms": milliseconds(np.percentile(values, 95)), "max_ms": milliseconds(values.max())}


def frame_summary(frame_stages, faces_found, wall_seconds):
    """Statistics of a timed pass over a clip.

    ``frame_stages`` holds one ``{stage: seconds}`` dict per frame read, with disjoint stages; a
    frame's latency is their sum, and frames/s is frames over the wall time of the whole pass.
    Where detect, classify and other were timed apart, ``analyze`` is added as their sum.
    """
    frames = len(frame_stages)
    if not frames:
        return {"frames": 0, "wall_s": round(wall_seconds, 3), "fps": None, "latency": latency_summary([]),
                "stages_ms": {}, "faces_found_per_frame": None}
    means = {stage: float(np.mean([stages.get(stage, 0.0) for stages in frame_stages]))
             for stage in STAGES if any(stage in stages for stages in frame_stages)}
    if "analyze" not in means and "detect" in means:
        means["analyze"] = sum(means.get(stage, 0.0) for stage in ANALYZE_PARTS)
    return {"frames": frames, "wall_s": round(wall_seconds, 3),
            "fps": round(frames / wall_seconds, 2) if wall_seconds > 0 else None,
            "latency": latency_summary([sum(stages.values()) for stages in frame_stages]),
            "stages_ms": {stage: milliseconds(means[stage]) for stage in STAGES if stage in means},
            "faces_found_per_frame": round(float(np.mean(faces_found)), 3)}


def run_peer_script(script, arguments, timeout):
    """Run ``script`` with the peer venv's Python from a temporary folder; its last stdout line as JSON.

    From elsewhere and without ``PYTHONPATH``, ``import fer`` finds the PyPI package, not this
    repository's ``fer/``. Returns ``(result, None)``, or ``(None, reason)`` when it cannot run.
    """
    python = PEER_VENV / "bin" / "python"
    if not python.is_file():
        return None, f"{PEER_VENV} not found: run bash benchmarks/setup_peer.sh"
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    with tempfile.TemporaryDirectory(prefix="fer-peer-") as elsewhere:
        try:
            done = subprocess.run([str(python), str(script), *map(str, arguments)], cwd=elsewhere, env=env,
                                  capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, f"timed out after {timeout} s"
    if done.returncode != 0:
        return None, f"exit {done.returncode}: " + " | ".join(done.stderr.strip().splitlines()[-3:])
    return json.loads(done.stdout.strip().splitlines()[-1]), None
