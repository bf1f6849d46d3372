"""tests/clips.py (fixture faces, composed scenes, written clips) and fer.live.video_writer."""

import cv2
import numpy as np
import pytest

from clips import FACES_DIR, compose_scene, face_emotion, face_positions, load_faces, write_clip
from fer.labels import EMOTIONS
from fer.live.video_writer import open_video_writer


def test_fixture_faces_cover_every_emotion_and_stay_small():
    faces = load_faces()
    assert len(faces) >= 28
    assert {face_emotion(name) for name, _ in faces} == set(EMOTIONS)
    assert all(gray_face.shape == (48, 48) and gray_face.dtype == np.uint8 for _, gray_face in faces)
    assert sum(path.stat().st_size for path in FACES_DIR.iterdir()) < 300_000


def test_load_faces_from_an_empty_folder_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_faces(tmp_path)


def test_compose_scene_pastes_each_grown_face_at_its_box():
    faces = [gray_face for _, gray_face in load_faces()[:4]]
    frame, boxes = compose_scene(faces, frame_index=3, face_size=100)
    assert frame.shape == (480, 640, 3) and frame.dtype == np.uint8
    assert len(boxes) == 4
    for (x, y, w, h), gray_face in zip(boxes, faces):
        assert 0 <= x and x + w <= 640 and 0 <= y and y + h <= 480
        grown = cv2.resize(gray_face, (w, h), interpolation=cv2.INTER_CUBIC)
        np.testing.assert_array_equal(frame[y:y + h, x:x + w, 1], grown)


def test_faces_drift_a_little_between_frames():
    face = load_faces()[0][1]
    _, (first,) = compose_scene([face], frame_index=0)
    _, (later,) = compose_scene([face], frame_index=10)
    assert first != later
    assert abs(first[0] - later[0]) <= 12 and abs(first[1] - later[1]) <= 12


def test_face_positions_refuse_faces_that_do_not_fit():
    assert len(face_positions(4, 140)) == 4
    assert face_positions(0) == []
    with pytest.raises(ValueError, match="do not fit"):
        face_positions(9, 200)


@pytest.mark.parametrize("suffix", [".mp4", ".avi"])
def test_write_clip_writes_a_readable_video(tmp_path, suffix):
    faces = [gray_face for _, gray_face in load_faces()[:2]]
    path = tmp_path / f"clip{suffix}"
    boxes = write_clip(path, faces, frames=6, fps=12)
    assert len(boxes) == 6 and all(len(frame_boxes) == 2 for frame_boxes in boxes)
    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    assert count == 6


def test_unknown_video_suffix_is_refused(tmp_path):
    with pytest.raises(ValueError, match=".mp4 or .avi"):
        open_video_writer(tmp_path / "clip.gif", 10, (640, 480))
