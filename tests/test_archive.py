"""Archive analysis (fer/archive, ``python -m fer analyze``): real clips, pictures and broken files."""

import csv
import os
import pathlib
import signal
import subprocess
import sys
import time

import cv2
import pytest

from clips import compose_scene, load_faces, write_clip
from fer.archive import engines
from fer.archive.inputs import InputError, find_inputs
from fer.archive.manifest import Manifest
from fer.archive.task import AnalysisOptions, Interrupted, Job, analyze_input
from fer.cli import main

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def faces():
    return [face for _, face in load_faces()[:2]]


@pytest.fixture(scope="module")
def archive(tmp_path_factory, faces):
    """A folder like a researcher's: clips in folders, a picture, a corrupt video, a text file named .jpg."""
    root = tmp_path_factory.mktemp("archive")
    (root / "day1").mkdir()
    write_clip(root / "day1" / "a.avi", faces, frames=30, fps=10.0)
    write_clip(root / "day1" / "a.mp4", faces[:1], frames=20, fps=10.0)
    write_clip(root / "b.avi", faces[1:], frames=20, fps=10.0)
    cv2.imwrite(str(root / "day1" / "group.png"), compose_scene(faces, 0)[0])
    (root / "broken.mp4").write_bytes(b"\x00" * 4096)
    (root / "notes.jpg").write_text("not a picture")
    (root / "readme.txt").write_text("ignored: neither a video nor a picture")
    return root


def job_for(path, table, model, **options):
    return Job(path.name, path, table, path.suffix == ".png", AnalysisOptions(model=str(model), **options))


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def analyze_command(*args):
    return [sys.executable, "-m", "fer", "analyze", *map(str, args)]


def test_inputs_are_found_recursively_and_named_by_their_path_in_the_folder(archive, tmp_path):
    names = [item.name for item in find_inputs([archive])]
    assert names == ["b.avi", "broken.mp4", "day1/a.avi", "day1/a.mp4", "day1/group.png", "notes.jpg"]
    tables = {item.table_path(tmp_path, "csv").relative_to(tmp_path).as_posix() for item in find_inputs([archive])}
    assert {"day1/a.avi.csv", "day1/a.mp4.csv"} <= tables, "a.avi and a.mp4 must not share a table"
    alone = find_inputs([archive / "day1" / "a.avi"])
    assert [item.name for item in alone] == ["a.avi"]


def test_inputs_that_cannot_be_analysed_as_given_are_refused(archive, tmp_path):
    with pytest.raises(InputError, match="no such file"):
        find_inputs([tmp_path / "missing"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no videos or pictures"):
        find_inputs([tmp_path / "empty"])
    with pytest.raises(InputError, match="would both write the table a.avi"):
        find_inputs([archive / "day1" / "a.avi", archive / "day1"])


def test_the_output_folder_inside_an_input_folder_is_not_analysed(archive, tmp_path, faces):
    folder = tmp_path / "videos"
    folder.mkdir()
    write_clip(folder / "x.avi", faces, frames=5, fps=10.0)
    (folder / "results").mkdir()
    (folder / "results" / "old.png").write_bytes((archive / "day1" / "group.png").read_bytes())
    assert [item.name for item in find_inputs([folder], output=folder / "results")] == ["x.avi"]


def test_a_clips_table_is_the_table_of_camera_py_csv(archive, tmp_path, tiny_model_dir):
    clip = archive / "day1" / "a.avi"
    assert main(["camera", str(clip), "--model", str(tiny_model_dir), "--csv", str(tmp_path / "camera.csv")]) == 0
    row = analyze_input(job_for(clip, tmp_path / "a.avi.csv", tiny_model_dir))
    assert read_rows(tmp_path / "a.avi.csv") == read_rows(tmp_path / "camera.csv")
    assert row["status"] == "ok" and row["frames"] == 30 and row["faces"] == len(read_rows(tmp_path / "camera.csv")) - 1
    shares = [row[label] for label in ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")]
    assert abs(sum(shares) - 1) < 1e-3


def test_every_nth_frame_is_analysed_at_its_own_index_and_time(archive, tmp_path, tiny_model_dir):
    row = analyze_input(job_for(archive / "day1" / "a.avi", tmp_path / "t.csv", tiny_model_dir, every=4))
    frames = sorted({int(line[0]) for line in read_rows(tmp_path / "t.csv")[1:]})
    assert row["frames"] == 8 and frames == [0, 4, 8, 12, 16, 20, 24, 28]
    times = {int(line[0]): float(line[1]) for line in read_rows(tmp_path / "t.csv")[1:]}
    assert times[8] == pytest.approx(0.8)


def test_parquet_holds_the_same_rows_with_typed_columns(archive, tmp_path, tiny_model_dir):
    pq = pytest.importorskip("pyarrow.parquet")
    clip = archive / "day1" / "a.avi"
    analyze_input(job_for(clip, tmp_path / "a.csv", tiny_model_dir))
    analyze_input(job_for(clip, tmp_path / "a.parquet", tiny_model_dir, table_format="parquet"))
    table = pq.read_table(tmp_path / "a.parquet")
    rows = read_rows(tmp_path / "a.csv")
    assert table.schema.names == rows[0] and table.num_rows == len(rows) - 1
    assert str(table.schema.field("frame").type) == "int64" and str(table.schema.field("happy").type) == "float"
    assert table.column("emotion").to_pylist() == [line[7] for line in rows[1:]]


@pytest.mark.parametrize("name, reason", [("broken.mp4", "not a video OpenCV can decode"),
                                          ("notes.jpg", "not a readable image")])
def test_an_unreadable_input_is_an_error_row_and_leaves_no_table(archive, tmp_path, tiny_model_dir, name, reason):
    path = archive / name
    job = Job(name, path, tmp_path / f"{name}.csv", name.endswith(".jpg"), AnalysisOptions(str(tiny_model_dir)))
    row = analyze_input(job)
    assert row["status"] == "error" and reason in row["error"] and str(path) in row["error"]
    assert row["frames"] == 0 and row["happy"] == ""
    assert list(tmp_path.iterdir()) == []


def test_a_stopped_analysis_keeps_no_table_and_no_partial_file(archive, tmp_path, tiny_model_dir):
    asked = []

    def stop_after_five():
        asked.append(1)
        return len(asked) > 5

    with pytest.raises(Interrupted):
        analyze_input(job_for(archive / "day1" / "a.avi", tmp_path / "a.avi.csv", tiny_model_dir),
                      should_stop=stop_after_five)
    assert list(tmp_path.iterdir()) == []


def test_the_manifest_skips_finished_tables_until_model_options_or_input_change(archive, tmp_path, tiny_model_dir):
    clip = tmp_path / "clip.avi"
    clip.write_bytes((archive / "b.avi").read_bytes())
    job = job_for(clip, tmp_path / "out" / "clip.avi.csv", tiny_model_dir)
    manifest = Manifest(tmp_path / "out")
    assert manifest.finished(job) is None
    row = analyze_input(job)
    manifest.record(job, row)
    assert Manifest(tmp_path / "out").finished(job) == row, "a new run should find the finished table"
    assert Manifest(tmp_path / "out").finished(job_for(clip, job.table, tiny_model_dir, every=2)) is None
    assert Manifest(tmp_path / "out").finished(job_for(clip, job.table, tiny_model_dir, detector="yunet")) is None
    assert Manifest(tmp_path / "out").finished(job_for(clip, job.table, tiny_model_dir, align=False)) is None
    os.utime(clip, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert Manifest(tmp_path / "out").finished(job) is None, "a changed input should be analysed again"
    job.table.unlink()
    assert Manifest(tmp_path / "out").finished(job_for(clip, job.table, tiny_model_dir)) is None


def test_analyze_writes_every_table_and_the_summary_and_fails_for_bad_inputs(archive, tmp_path, tiny_model_dir):
    out = tmp_path / "out"
    result = subprocess.run(analyze_command(archive, "--output", out, "--model", tiny_model_dir, "--workers", 2),
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 1, result.stderr
    summary = {row["input"]: row for row in csv.DictReader(open(out / "summary.csv", encoding="utf-8"))}
    assert list(summary) == ["b.avi", "broken.mp4", "day1/a.avi", "day1/a.mp4", "day1/group.png", "notes.jpg"]
    assert [summary[name]["status"] for name in summary] == ["ok", "error", "ok", "ok", "ok", "error"]
    assert summary["day1/a.avi"]["frames"] == "30" and summary["day1/group.png"]["frames"] == "1"
    for name in ("b.avi", "day1/a.avi", "day1/a.mp4", "day1/group.png"):
        assert (out / f"{name}.csv").is_file()
    assert not list(out.rglob("*.partial")) and not (out / "broken.mp4.csv").exists()
    assert "Traceback" not in result.stderr

    again = subprocess.run(analyze_command(archive, "--output", out, "--model", tiny_model_dir, "--workers", 2),
                           capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert "6 inputs: 4 finished before, 2 to analyse" in again.stderr
    assert read_rows(out / "summary.csv")[1:] != [] and again.returncode == 1


def test_ctrl_c_stops_cleanly_and_a_rerun_gives_the_tables_of_an_uninterrupted_run(tmp_path, faces,
                                                                                  tiny_model_dir):
    folder = tmp_path / "clips"
    folder.mkdir()
    clips = 6  # enough work left after the first clip that Ctrl+C always comes mid-run
    for index in range(clips):
        write_clip(folder / f"clip{index}.avi", faces if index % 2 else faces[::-1], frames=300, fps=10.0)
    cut = tmp_path / "cut"
    process = subprocess.Popen(analyze_command(folder, "--output", cut, "--model", tiny_model_dir, "--workers", 2,
                                               "--full-search-every", 1),
                               stderr=subprocess.PIPE, text=True, cwd=ROOT,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))  # as in a script
    deadline = time.monotonic() + 240
    for line in process.stderr:  # wait until the first input is finished, then press Ctrl+C
        if f" 1/{clips} " in line or time.monotonic() > deadline:
            break
    process.send_signal(signal.SIGINT)
    rest = process.communicate(timeout=120)[1]
    assert process.returncode == 130, rest
    assert "stopped by Ctrl+C" in rest and "Traceback" not in rest
    assert not list(cut.rglob("*.partial")), "a partial table was left behind"
    finished = sorted(path.name for path in cut.glob("*.avi.csv"))
    assert 1 <= len(finished) < clips
    statuses = [row["status"] for row in csv.DictReader(open(cut / "summary.csv", encoding="utf-8"))]
    assert statuses.count("not done") == clips - len(finished)

    rerun = subprocess.run(analyze_command(folder, "--output", cut, "--model", tiny_model_dir, "--workers", 2,
                                           "--full-search-every", 1), capture_output=True, text=True, timeout=300,
                           cwd=ROOT)
    assert rerun.returncode == 0 and f"{len(finished)} finished before" in rerun.stderr
    redone = subprocess.run(analyze_command(folder, "--output", tmp_path / "whole", "--model", tiny_model_dir,
                                            "--workers", 1, "--full-search-every", 1),
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert redone.returncode == 0
    for index in range(clips):
        name = f"clip{index}.avi.csv"
        assert (cut / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name


def test_the_ray_engine_on_a_local_ray_gives_the_local_engines_tables(archive, tmp_path, tiny_model_dir):
    pytest.importorskip("ray")
    local, on_ray = tmp_path / "local", tmp_path / "ray"
    for engine, out in (("local", local), ("ray", on_ray)):
        result = subprocess.run(analyze_command(archive / "day1", "--output", out, "--model", tiny_model_dir,
                                                "--workers", 2, "--engine", engine),
                                capture_output=True, text=True, timeout=300, cwd=ROOT)
        assert result.returncode == 0, result.stderr
    for name in ("a.avi.csv", "a.mp4.csv", "group.png.csv"):
        assert (on_ray / name).read_bytes() == (local / name).read_bytes()
    assert read_rows(on_ray / "summary.csv")[0] == read_rows(local / "summary.csv")[0]


def test_without_ray_the_ray_engine_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(engines.MissingEngine, match=r"pip install 'ray=="):
        engines.run_ray([], lambda job, row: None)


def test_bad_options_get_one_line(tmp_path, capsys):
    assert main(["analyze", str(tmp_path), "--output", str(tmp_path / "o"), "--every", "0"]) == 2
    assert "--every must be at least 1" in capsys.readouterr().err
    assert main(["analyze", str(tmp_path / "none"), "--output", str(tmp_path / "o")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
