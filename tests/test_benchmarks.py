"""The benchmark scripts run end to end in their shortest mode and write the JSON the report reads.

Not timing tests: the numbers are not checked, only that every script runs on a tiny model,
counts every frame it reads, and writes the keys ``benchmarks/report.py`` needs. The three
scripts start together (each loads TensorFlow in its own process) to keep this file short.
"""

import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"
PEER_PYTHON = BENCHMARKS / ".venv-peer" / "bin" / "python"
HAS_PEER = PEER_PYTHON.is_file()
SAMPLE_CSV = ROOT / "tests" / "fixtures" / "fer2013_sample.csv.gz"
FRAMES = 3
TIMEOUT = 300


@pytest.fixture(scope="module")
def untrained_model_dir(tmp_path_factory):
    """A narrow, untrained VGG saved as a model directory: the scripts only need one to load."""
    from fer.training.artifacts import save_model_dir
    from fer.labels import EMOTIONS
    from fer.training.models import build_model

    directory = tmp_path_factory.mktemp("bench_model")
    save_model_dir(build_model("vgg", (48, 48, 1), len(EMOTIONS), widths=(8, 16, 16, 32)), directory, EMOTIONS)
    return directory


@pytest.fixture(scope="module")
def finished(untrained_model_dir, tiny_model_dir, tmp_path_factory):
    """Start every benchmark at once; ``finished(name)`` waits for one and returns its results JSON."""
    output = tmp_path_factory.mktemp("bench_results")
    model, trained_model_dir = str(untrained_model_dir), tiny_model_dir
    commands = {
        "live_pipeline": ["--model", model, "--frames", str(FRAMES), "--warmup", "1", "--faces", "1", "2",
                          "--peer-modes", *(["tflite"] if HAS_PEER else [])],
        "web_viewers": ["--model", model, "--viewers", "1", "3", "--seconds", "2", "--warmup", "1"],
        "training_speed": ["--images", "64", "--batch-size", "8", "--batches", "2", "--steps", "2", "--warmup", "1",
                           "--architectures", "vgg", "--model-options", '{"widths": [8, 16, 16, 32]}'],
        "soak": ["--model", model, "--phase-seconds", "1", "--crowd", "4", "--max-viewers", "2", "--bursts", "1",
                 "--burst-size", "2"],
    }
    commands["archive_analysis"] = ["--model", model, "--clips", "2", "--frames", "6", "--long-minutes", "0.02",
                                    "--no-ray", *([] if HAS_PEER else ["--no-peer"])]
    commands["export_formats"] = ["--model", str(trained_model_dir), "--data", str(SAMPLE_CSV),
                                  "--representative", "20"]
    commands["detectors"] = ["--model", model, "--data", str(SAMPLE_CSV), "--count", "8", "--frames", str(FRAMES),
                             "--warmup", "1", "--faces", "1", "2"]
    if HAS_PEER:
        commands["peer_accuracy"] = ["--data", str(SAMPLE_CSV)]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    running = {}
    for name, arguments in commands.items():
        with open(output / f"{name}.log", "wb") as log:  # a file, not a pipe nobody reads while the others run
            running[name] = subprocess.Popen([sys.executable, str(BENCHMARKS / f"{name}.py"), *arguments,
                                              "--output", str(output / f"{name}.json")],
                                             cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    def wait(name):
        returncode = running[name].wait(timeout=TIMEOUT)
        log = (output / f"{name}.log").read_text(errors="replace")
        assert returncode == 0, f"{name}.py failed:\n{log[-3000:]}"
        return json.loads((output / f"{name}.json").read_text())

    wait.folder = output
    yield wait
    for process in running.values():
        if process.poll() is None:
            process.kill()
            process.wait()


def check_common_keys(results, name):
    assert results["benchmark"] == name
    for key in ("cpu", "logical_cores", "usable_cores", "load_average_1min", "date", "python", "tensorflow",
                "opencv"):
        assert key in results["machine"], key
    assert results["settings"] and results["runs"]


def test_live_pipeline_times_every_frame_of_each_clip(finished):
    results = finished("live_pipeline")
    check_common_keys(results, "live_pipeline")
    ours = {(run["pipeline"], run["faces"]): run for run in results["runs"] if not run["pipeline"].startswith("fer-")}
    full = "ours, full search every 1"
    assert set(ours) == {(pipeline, faces) for pipeline in ("ours", full, "naive") for faces in (1, 2)}
    for run in ours.values():
        assert run["frames"] == FRAMES  # every frame of the clip, none skipped
        assert run["fps"] > 0 and run["engine"] == ("keras" if run["pipeline"] == "naive" else "litert")
        assert run["latency"]["p50_ms"] <= run["latency"]["p95_ms"]
        assert {"decode", "detect", "classify", "analyze", "draw", "encode"} <= set(run["stages_ms"])
    assert ours[("ours", 2)]["faces_found_per_frame"] == ours[(full, 2)]["faces_found_per_frame"] == 2.0
    assert ours[(full, 2)]["full_searches_per_frame"] == 1.0
    assert ours[("ours", 2)]["full_searches_per_frame"] <= 0.5  # the faces were followed between full searches
    assert results["settings"]["jpeg_quality"] == 80


@pytest.mark.skipif(not HAS_PEER, reason="benchmarks/.venv-peer is absent: run bash benchmarks/setup_peer.sh")
def test_live_pipeline_times_the_fer_pypi_peer(finished):
    peer = [run for run in finished("live_pipeline")["runs"] if run["pipeline"].startswith("fer-pypi")]
    assert [run["faces"] for run in peer] == [1, 2]
    for run in peer:
        assert "error" not in run, run.get("error")
        assert run["frames"] == FRAMES
        assert {"decode", "analyze", "draw", "encode"} <= set(run["stages_ms"])
        assert run["peer_version"]


@pytest.mark.skipif(not HAS_PEER, reason="benchmarks/.venv-peer is absent: run bash benchmarks/setup_peer.sh")
def test_peer_accuracy_scores_the_fer_pypi_classifier_on_every_face(finished):
    results = finished("peer_accuracy")
    check_common_keys(results, "peer_accuracy")
    assert results["settings"]["faces"] == 35 and results["settings"]["peer_mode"] == "keras"
    assert [run["tta"] for run in results["runs"]] == ["none", "flip"]
    for run in results["runs"]:
        assert run["samples"] == 35
        assert run["labels"] == ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
        assert sum(figures["support"] for figures in run["per_class"].values()) == 35
    # 16 of the 35 right with the peer's [-1, 1] scaling; 12 with [0, 1], 5 with 0-255, and chance is 1 in 7
    assert results["runs"][0]["accuracy"] >= 0.4


def test_web_viewers_measures_each_viewer_count(finished):
    results = finished("web_viewers")
    check_common_keys(results, "web_viewers")
    assert [run["viewers"] for run in results["runs"]] == [1, 3]
    for run in results["runs"]:
        assert run["failed_viewers"] == 0, run["viewer_errors"]
        assert run["still_running_viewers"] == 0
        assert run["viewer_fps"]["min"] > 0
        assert run["source_fps"] > 0
        assert run["server_cpu_percent"] > 0


def test_training_speed_compares_pipelines_and_training_steps(finished):
    results = finished("training_speed")
    check_common_keys(results, "training_speed")
    pipelines = [run for run in results["runs"] if run["part"] == "input pipeline"]
    steps = [run for run in results["runs"] if run["part"] == "training step"]
    assert [run["feeder"] for run in pipelines] == ["train.py pipeline, its augmentation",
                                                    "train.py pipeline, ImageDataGenerator's transforms", "ImageDataGenerator"]
    assert all(run["batch_shape"] == [8, 48, 48, 1] for run in pipelines)
    assert [(run["architecture"], run["feeder"], run["precision"]) for run in steps] == [
        ("vgg", "train.py pipeline, its augmentation", "float32"), ("vgg", "ImageDataGenerator", "float32"),
        ("vgg", "train.py pipeline, its augmentation", "bfloat16")]
    assert all(run["images_per_s"] > 0 for run in results["runs"])


def test_soak_goes_through_every_phase_and_the_server_keeps_its_promises(finished):
    results = finished("soak")
    check_common_keys(results, "soak")
    phases, figures = results["runs"]["phases"], results["runs"]["figures"]
    assert set(phases) == {"watch", "source lost", "source back", "crowd", "uploads", "rest"}
    # a phase shorter than the half-second sampling interval has no samples, hence no summary
    assert all(summary.get("healthz_unanswered", 0) == 0 for summary in phases.values())
    assert figures["crowd"] == {"viewers": 4, "streamed": 2, "busy_503": 2, "failed": 0}
    assert figures["source back"]["frames_analysed_without_viewers"] == 0
    assert figures["uploads"] == {"200": 2}
    assert figures["shutdown_seconds"] is not None and figures["shutdown_seconds"] < 10


def test_export_formats_checks_every_format_against_keras(finished):
    results = finished("export_formats")
    check_common_keys(results, "export_formats")
    runs = {run["format"]: run for run in results["runs"]}
    assert list(runs) == ["litert", "litert-int8", "savedmodel", "onnx"]
    for fmt in ("litert", "savedmodel", "onnx"):
        assert runs[fmt]["top_emotion_agreement"] == 1.0 and runs[fmt]["exit_status"] == 0
    assert runs["litert-int8"]["bytes"] < runs["litert"]["bytes"]
    assert all(run["faces"] == 35 and run["ms_per_face"] > 0 for run in results["runs"])


def test_archive_analysis_counts_every_frame_of_each_engine(finished):
    results = finished("archive_analysis")
    check_common_keys(results, "archive_analysis")
    runs = results["runs"]
    for name in ("local, 1 worker", "local, 2 workers", "long clip, 1 worker"):
        assert "error" not in runs[name], runs[name]
        assert runs[name]["peak_rss_mb"] > 0 and runs[name]["frames_per_second"] > 0
    assert runs["local, 1 worker"]["frames"] == runs["local, 2 workers"]["frames"] == 12
    assert runs["long clip, 1 worker"]["frames"] == 18  # 0.02 minutes at 15 frames a second
    assert runs["two_workers_speedup"] > 0
    if HAS_PEER:
        assert runs["fer package, Video.analyze"]["frames"] == 12


def test_detectors_scores_each_detector_at_each_angle_and_times_each(finished):
    results = finished("detectors")
    check_common_keys(results, "detectors")
    accuracy, speed = results["runs"]["accuracy"], results["runs"]["speed"]
    assert [(run["detector"], run["angle"]) for run in accuracy] == [
        (name, angle) for name in ("haar", "yunet", "yunet --no-align", "model alone") for angle in (0, 15, 30)]
    for run in accuracy:
        assert run["faces"] == 8 and 0 <= run["right"] <= run["found"] <= 8
    assert [run["found"] for run in accuracy if run["detector"] == "model alone"] == [8, 8, 8]
    assert [(run["detector"], run["faces"], run["frames"]) for run in speed] == [
        (name, faces, FRAMES) for name in ("haar", "yunet", "yunet --no-align") for faces in (1, 2)]


def test_report_renders_every_result(finished):
    names = ("live_pipeline", "web_viewers", "training_speed", "soak", "export_formats", "archive_analysis", "detectors")
    for name in names + (("peer_accuracy",) if HAS_PEER else ()):
        finished(name)
    subprocess.run([sys.executable, str(BENCHMARKS / "report.py"), "--results", str(finished.folder)],
                   cwd=ROOT, check=True, capture_output=True, timeout=60)
    report = (finished.folder / "README.md").read_text()
    for heading in ("## Machine", "## Live pipeline", "## Web viewers", "## Training speed", "## Soak",
                    "## Export formats", "## Archive analysis", "## Face detectors"):
        assert heading in report
    assert not HAS_PEER or "| fer-pypi 25.10.3 (keras) | face + mirror |" in report
    assert "| ours | litert | 2 |" in report and "| ImageDataGenerator |" in report
