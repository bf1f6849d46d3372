"""``python -m fer analyze``: every video and picture of an archive, in parallel, into one table each.

Each input gets ``DIR/<name>.csv`` (the columns of ``camera.py --csv``) or ``.parquet``, and
``DIR/summary.csv`` one row per input. Finished tables are remembered in ``DIR/manifest.json``,
so a rerun (after Ctrl+C, a crash, or new files) analyses only what is not done yet.
"""

import csv
import json
import logging
import pathlib
import sys
import time

from ..files import usable_cores, written_whole
from .detection import add_detector_arguments, detection_problems
from .signals import stop_on_signals


log = logging.getLogger(__name__)

HELP = "analyse folders of videos and pictures in parallel: a table per input and a summary"
DESCRIPTION = ("Analyse every video and picture in the files and folders given (folders searched "
               "recursively): one table per input with every face of every analysed frame, and "
               "DIR/summary.csv with one row per input. Runs in parallel processes, or on Ray; a rerun "
               "skips the inputs already finished with the same model and options.")
EPILOG = ("examples: python -m fer analyze recordings/ --output results/   |   "
          "python -m fer analyze a.mp4 b.mp4 --output out/ --every 5 --format parquet   |   "
          "python -m fer analyze /shared/videos --output /shared/results --engine ray --ray-address auto")
LOG_LEVEL = logging.INFO
TABLE_FORMATS = ("csv", "parquet")


def add_arguments(parser):
    """Options of ``analyze``."""
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="video files, pictures, or folders of them")
    parser.add_argument("--output", required=True, metavar="DIR", help="folder for the tables, summary.csv and "
                        "manifest.json (on a cluster: storage every node sees)")
    parser.add_argument("--format", dest="table_format", default="csv", choices=TABLE_FORMATS,
                        help="table format (parquet needs pyarrow)")
    parser.add_argument("--every", type=int, default=1, metavar="N", help="analyse every Nth frame of a video")
    parser.add_argument("--model", metavar="DIR", help="model directory [default: models/default in the repository]")
    parser.add_argument("--no-smoothing", dest="smoothing", action="store_false",
                        help="each frame's own scores instead of each face's scores averaged over time")
    parser.add_argument("--full-search-every", type=int, default=8, metavar="N",
                        help="search the whole frame for faces every N analysed frames, in between only around "
                        "the faces found (1: every frame)")
    add_detector_arguments(parser)
    parser.add_argument("--workers", type=int, default=usable_cores(), metavar="N",
                        help="processes analysing inputs at once (each loads the model once)")
    parser.add_argument("--engine", default="local", choices=["local", "ray"],
                        help="local: a process pool on this machine; ray: Ray tasks (pip install ray)")
    parser.add_argument("--ray-address", metavar="ADDR", help="the Ray cluster to join ('auto', or "
                        "ray://HOST:10001) [default: start a local Ray for this run and stop it after]")


def check_args(args):
    """Reasons the options cannot work (empty: fine)."""
    from ..locations import model_dir_problem

    problems = [problem for problem in [model_dir_problem(args.model)] if problem]
    for name in ("every", "workers", "full_search_every"):
        if getattr(args, name) < 1:
            problems.append(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    problems += detection_problems(args)
    if args.ray_address and args.engine != "ray":
        problems.append("--ray-address needs --engine ray")
    if args.table_format == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            problems.append("--format parquet needs pyarrow: pip install pyarrow")
    return problems


def run(args):
    """Find the inputs, analyse what is not finished, write the summary; 1 if any input failed."""
    from ..archive.inputs import find_inputs
    from ..archive.manifest import Manifest
    from ..archive.task import AnalysisOptions, Job
    from ..locations import DEFAULT_MODEL_DIR

    args.model = args.model or str(DEFAULT_MODEL_DIR)
    problems = check_args(args)
    if problems:
        raise ValueError("; ".join(problems))
    output = pathlib.Path(args.output)
    inputs = find_inputs(args.inputs, output=output)
    options = AnalysisOptions(model=str(pathlib.Path(args.model).resolve()), every=args.every,
                              smoothing=args.smoothing, full_search_every=args.full_search_every,
                              detect_width=args.detect_width, detector=args.detector, align=args.align, int8=args.int8,
                              table_format=args.table_format)
    jobs = [Job(item.name, item.path.resolve(), item.table_path(output.resolve(), args.table_format),
                item.is_picture, options) for item in inputs]
    manifest = Manifest(output)
    rows = {job.name: manifest.finished(job) for job in jobs}
    todo = [job for job in jobs if rows[job.name] is None]
    log.info("%d inputs: %d finished before, %d to analyse (%s engine, %d workers)", len(jobs),
             len(jobs) - len(todo), len(todo), args.engine, args.workers)
    started = time.perf_counter()
    stop_on_signals()  # Ctrl+C and kill stop the workers cleanly, even when started in the background
    try:
        analyse(todo, args, manifest, rows)
    except KeyboardInterrupt:
        log.warning("stopped by Ctrl+C: %d of %d inputs not finished; run the same command again to finish them",
                    sum(row is None for row in rows.values()), len(rows))
        write_summary(output, jobs, rows, labels_of(args.model))
        return 130
    summary = write_summary(output, jobs, rows, labels_of(args.model))
    failed = [row for row in rows.values() if row["status"] != "ok"]
    frames = sum(row["frames"] for row in rows.values())
    log.info("%d inputs, %d frames, %d failed in %.1f s; summary %s", len(jobs), frames, len(failed),
             time.perf_counter() - started, summary)
    for row in failed:
        log.error("%s: %s", row["input"], row["error"])
    return 1 if failed else 0


def analyse(jobs, args, manifest, rows):
    """Run ``jobs`` on the chosen engine, recording each result as it arrives."""
    from ..archive.engines import run_local, run_ray

    progress = Progress(expected_frames(jobs, args.every), len(jobs), counts_as_it_goes=args.engine == "local")

    def on_result(job, row):
        rows[job.name] = row
        manifest.record(job, row)
        progress.finished(row)

    if not jobs:
        return
    try:
        if args.engine == "ray":
            run_ray(jobs, on_result, address=args.ray_address, workers=args.workers)
        else:
            run_local(jobs, args.workers, on_result, on_frames=progress.frames)
    finally:
        progress.close()


def expected_frames(jobs, every):
    """About how many frames the jobs will analyse (from each video's frame count), for the progress bar."""
    import cv2

    total = 0
    for job in jobs:
        if job.is_picture:
            total += 1
            continue
        capture = cv2.VideoCapture(str(job.path))
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if capture.isOpened() else 0
        capture.release()
        total += -(-max(count, 0) // every)
    return total


class Progress:
    """A progress bar over frames (rate and time left) on a terminal; a log line per input otherwise."""

    def __init__(self, total_frames, inputs, counts_as_it_goes=True):
        """``counts_as_it_goes``: the engine reports frames while it analyses (else each input's at its end)."""
        self.inputs, self.done = inputs, 0
        self.counts_as_it_goes = counts_as_it_goes
        self.bar = None
        if sys.stderr.isatty() and inputs:
            from tqdm import tqdm

            self.bar = tqdm(total=total_frames, unit="frame", dynamic_ncols=True, smoothing=0.1)

    def frames(self, count):
        """``count`` more frames analysed (reported by the workers as they go)."""
        if self.bar is not None:
            self.bar.update(count)

    def finished(self, row):
        """One input done (frames of engines that do not report them as they go are counted here)."""
        self.done += 1
        if not self.counts_as_it_goes:
            self.frames(row["frames"])
        if self.bar is not None:
            self.bar.set_postfix_str(f"{self.done}/{self.inputs} inputs")
        else:
            log.info("%d/%d %s: %s, %d frames, %d faces, %.1f s", self.done, self.inputs, row["input"],
                     row["status"], row["frames"], row["faces"], row["analysis_seconds"])

    def close(self):
        if self.bar is not None:
            self.bar.close()


def labels_of(model_dir):
    """The labels of a model directory, read from ``model.json`` without loading Keras."""
    from ..labels import EMOTIONS
    from ..locations import ARCHITECTURE_FILE

    architecture = json.loads((pathlib.Path(model_dir) / ARCHITECTURE_FILE).read_text(encoding="utf-8"))
    return tuple(architecture.get("labels") or EMOTIONS)


def write_summary(output, jobs, rows, labels):
    """``DIR/summary.csv``: one row per input, in input order (unfinished inputs: status ``not done``)."""
    from ..archive.task import summary_columns

    columns = summary_columns(labels)
    path = pathlib.Path(output) / "summary.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with written_whole(path) as temporary, open(temporary, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for job in jobs:
            writer.writerow(rows[job.name] or {"input": job.name, "status": "not done", "error": "interrupted"})
    return path
