"""camera.py / fer.commands.camera: a clip of real faces in, CSV, chart, annotated video and summary out."""

import csv
import pathlib
import re
import subprocess
import sys

import cv2
import pytest

from fer.commands.camera import summary_line
from fer.cli import main
from clips import load_faces, write_clip
from fer.live.emotion_log import csv_columns
from fer.labels import EMOTIONS

REPOSITORY = pathlib.Path(__file__).resolve().parent.parent
SUMMARY = re.compile(r"^(\d+) frames, (\d+\.\d) faces/frame, (\d+\.\d) fps$")
FRAMES = 10


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A 10-frame clip of two real faces."""
    faces = [gray_face for _, gray_face in load_faces()][::9][:2]
    path = tmp_path_factory.mktemp("camera") / "two_faces.avi"
    write_clip(path, faces, frames=FRAMES, fps=10)
    return path


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def frame_count(video):
    capture = cv2.VideoCapture(str(video))
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    return count


def test_clip_to_csv_chart_video_and_summary(clip, tiny_model_dir, tmp_path, capsys):
    outputs = {name: tmp_path / name for name in ("emotions.csv", "emotions.png", "annotated.mp4")}
    status = main(["camera", str(clip), "--model", str(tiny_model_dir), "--csv", str(outputs["emotions.csv"]),
                   "--chart", str(outputs["emotions.png"]), "--output", str(outputs["annotated.mp4"])])
    assert status == 0
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    frames, faces_per_frame, fps = SUMMARY.match(summary).groups()
    assert int(frames) == FRAMES and float(faces_per_frame) == 2.0 and float(fps) > 0

    rows = read_csv(outputs["emotions.csv"])
    assert tuple(rows[0]) == csv_columns(EMOTIONS)
    assert len(rows) == 2 * FRAMES
    assert sorted({int(row["frame"]) for row in rows}) == list(range(FRAMES))
    assert float(rows[-1]["time_s"]) == pytest.approx((FRAMES - 1) / 10, abs=1e-3)
    for row in rows:
        scores = {emotion: float(row[emotion]) for emotion in EMOTIONS}
        assert row["emotion"] == max(scores, key=scores.get)
        assert float(row["confidence"]) == pytest.approx(scores[row["emotion"]], abs=1e-4)
        assert sum(scores.values()) == pytest.approx(1.0, abs=1e-3)
        assert int(row["w"]) > 50 and int(row["h"]) > 50

    chart = cv2.imread(str(outputs["emotions.png"]))
    assert chart is not None and chart.shape[1] >= 600
    assert frame_count(outputs["annotated.mp4"]) == FRAMES


def test_max_frames_loops_a_short_video(clip, tiny_model_dir, tmp_path, capsys):
    status = main(["camera", str(clip), "--model", str(tiny_model_dir), "--max-frames", "25", "--no-smoothing",
                   "--detect-width", "0", "--csv", str(tmp_path / "e.csv")])
    assert status == 0
    assert capsys.readouterr().out.strip().startswith("25 frames, 2.0 faces/frame")
    assert len(read_csv(tmp_path / "e.csv")) == 50


def test_yunet_follows_the_same_faces(clip, tiny_model_dir, tmp_path, capsys):
    for extra in ([], ["--no-align", "--detect-width", "0", "--float32"]):
        status = main(["camera", str(clip), "--model", str(tiny_model_dir), "--detector", "yunet", *extra,
                       "--csv", str(tmp_path / "yunet.csv")])
        assert status == 0
        assert capsys.readouterr().out.strip().startswith(f"{FRAMES} frames, 2.0 faces/frame")
        assert {row["face"] for row in read_csv(tmp_path / "yunet.csv")} == {"0", "1"}, "two faces, each followed"


def test_image_folder_source(tiny_model_dir, tmp_path, capsys):
    folder = tmp_path / "frames"
    folder.mkdir()
    faces = [gray_face for _, gray_face in load_faces()]
    for index in range(3):
        cv2.imwrite(str(folder / f"{index}.png"), cv2.resize(faces[index * 4], (160, 160))[:, :, None]
                    .repeat(3, axis=2))
    cv2.imwrite(str(folder / "3.png"), cv2.resize(faces[0], (200, 150)))  # another size
    status = main(["camera", str(folder), "--model", str(tiny_model_dir), "--output", str(tmp_path / "out.avi")])
    assert status == 0
    assert capsys.readouterr().out.startswith("4 frames")
    assert frame_count(tmp_path / "out.avi") == 4


@pytest.mark.parametrize("arguments, reason", [
    (["missing.mp4"], "no such file or folder"),
    (["97"], "cannot open webcam 97"),
    (["CLIP", "--max-frames", "0"], "--max-frames must be at least 1"),
    (["CLIP", "--detect-width", "8"], "--detect-width must be"),
    (["CLIP", "--full-search-every", "0"], "--full-search-every must be at least 1"),
    (["CLIP", "--model", "MISSING"], "no model.json"),
    (["CLIP", "--model", "MODEL", "--output", "OUT/annotated.gif"], ".mp4 or .avi"),
])
def test_errors_exit_2_with_one_line(arguments, reason, clip, tiny_model_dir, tmp_path, capsys):
    replacements = {"CLIP": str(clip), "MISSING": str(tmp_path / "none"), "MODEL": str(tiny_model_dir)}
    arguments = [replacements.get(argument, argument).replace("OUT", str(tmp_path)) for argument in arguments]
    assert main(arguments, command="camera", prog="camera.py") == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("camera.py: error:") and reason in error and "\n" not in error


def test_summary_line():
    assert summary_line(300, 600, 4.893) == "300 frames, 2.0 faces/frame, 61.3 fps"


def test_camera_script_fails_fast_and_imports_without_keras(tmp_path):
    result = subprocess.run([sys.executable, str(REPOSITORY / "camera.py"), str(tmp_path / "missing.avi")],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 2
    assert "no such file or folder" in result.stderr
    probe = subprocess.run([sys.executable, "-c", "import sys, fer.commands.camera; print('keras' in sys.modules)"],
                           capture_output=True, text=True, timeout=60, cwd=REPOSITORY)
    assert probe.stdout.strip() == "False"
