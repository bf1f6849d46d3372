"""fer.live.yunet: YuNet finds real faces, upright and turned, with eyes and angle; bad files fail clearly."""

import numpy as np
import pytest

from clips import compose_scene, gradient_background, load_faces, turned_scene
from fer.live.boxes import FaceBox, box_iou
from fer.live.yunet import DEFAULT_YUNET, YuNetDetector

FACES = [gray_face for _, gray_face in load_faces()]


@pytest.fixture(scope="module")
def detector():
    return YuNetDetector()


def found_share(detector, angle):
    """The share of fixture faces, alone in a frame and turned ``angle``, that are found on them."""
    hits = 0
    for face in FACES:
        frame, truth = turned_scene(face, angle)
        hits += any(box_iou(box, truth) >= 0.5 for box in detector.detect(frame))
    return hits / len(FACES)


def test_default_model_is_the_shipped_file_with_its_licence():
    assert DEFAULT_YUNET.is_file()
    assert (DEFAULT_YUNET.parent / "LICENSE-yunet.txt").is_file()


def test_finds_the_real_faces_of_composed_scenes(detector):
    hits = total = 0
    for start in range(0, len(FACES), 4):
        frame, truth = compose_scene(FACES[start:start + 4], face_size=120)
        found = detector.detect(frame)
        assert len(found) <= len(truth), "no box where there is no face"
        hits += sum(any(box_iou(box, true_box) >= 0.5 for box in found) for true_box in truth)
        total += len(truth)
    assert hits >= 0.9 * total


def test_finds_most_faces_turned_15_degrees(detector):
    assert found_share(detector, 15) >= 0.85
    assert found_share(detector, -15) >= 0.85


def test_boxes_are_squares_inside_the_frame_with_eyes_in_them(detector):
    frame, _ = compose_scene(FACES[:2], face_size=140)
    found = detector.detect(frame)
    assert len(found) == 2
    for box in found:
        assert isinstance(box, FaceBox) and all(type(value) is int for value in box)
        x, y, w, h = box
        assert 0 <= x and 0 <= y and x + w <= 640 and y + h <= 480
        assert abs(w - h) <= 1
        (right_x, right_y), (left_x, left_y) = box.eyes
        assert x < right_x < left_x < x + w, "the face's right eye is on the picture's left"
        assert y < right_y < y + h / 2 and y < left_y < y + h / 2


def test_grey_and_bgra_frames_give_the_boxes_of_bgr(detector):
    import cv2

    frame, _ = compose_scene(FACES[3:5], face_size=140)
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    expected = detector.detect(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR))
    assert detector.detect(gray) == expected
    assert detector.detect(cv2.cvtColor(frame, cv2.COLOR_BGR2BGRA)) == detector.detect(frame)


def test_nothing_in_blank_frames(detector):
    assert detector.detect(np.zeros((480, 640, 3), np.uint8)) == []
    assert detector.detect(np.full((480, 640), 255, np.uint8)) == []
    assert detector.detect(gradient_background()) == []


def test_frame_sizes_may_change_between_calls(detector):
    small, truth_small = compose_scene(FACES[:1], face_size=100, size=(320, 240))
    large, truth_large = compose_scene(FACES[:1], face_size=200, size=(1280, 720))
    for frame, truth in ((large, truth_large), (small, truth_small), (large, truth_large)):
        [box] = detector.detect(frame)
        assert box_iou(box, truth[0]) >= 0.5


def test_full_resolution_finds_the_same_faces(detector):
    full = YuNetDetector(detect_width=None)
    frame, truth = compose_scene(FACES[6:10], face_size=110)
    for boxes in (detector.detect(frame), full.detect(frame)):
        assert sum(any(box_iou(box, true_box) >= 0.5 for box in boxes) for true_box in truth) >= 3


def test_detect_near_finds_each_face_again_and_none_where_it_left(detector):
    frame, _ = compose_scene(FACES[:2], frame_index=0, face_size=140)
    moved, moved_truth = compose_scene(FACES[:2], frame_index=3, face_size=140)
    boxes = detector.detect(frame)
    again = detector.detect_near(moved, boxes)
    assert [box_iou(box, true_box) >= 0.5 for box, true_box in zip(again, moved_truth)] == [True, True]
    assert all(isinstance(box, FaceBox) and box.eyes is not None for box in again)
    assert detector.detect_near(gradient_background(), boxes) == [None, None]


def test_min_size_drops_small_faces():
    frame, _ = compose_scene(FACES[:1], face_size=100)
    assert YuNetDetector(min_size=60).detect(frame)
    assert YuNetDetector(min_size=200).detect(frame) == []


def test_missing_or_broken_model_files_fail_with_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.onnx"):
        YuNetDetector(model_path=tmp_path / "missing.onnx")
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a network")
    with pytest.raises(ValueError, match="broken.onnx"):
        YuNetDetector(model_path=broken)


@pytest.mark.parametrize("settings", [{"score_threshold": 0.0}, {"score_threshold": 1.0}, {"min_size": 0},
                                      {"detect_width": 16}])
def test_bad_settings_are_refused(settings):
    with pytest.raises(ValueError):
        YuNetDetector(**settings)
