"""fer.live.haar: Haar-cascade faces in full-frame coordinates, on a shrunk frame or not."""

import numpy as np
import pytest

from fer.preprocessing import to_gray
from clips import compose_scene, gradient_background, load_faces
from fer.live.haar import DEFAULT_CASCADE, HaarDetector
from fer.live.boxes import box_iou

FACES = [gray_face for _, gray_face in load_faces()]


def scenes():
    """Scenes of 1, 2 and 4 fixture faces at three sizes and drift positions."""
    for count, size in ((1, 160), (2, 140), (4, 100)):
        for start in range(0, len(FACES), 9):
            faces = [FACES[(start + offset * 5) % len(FACES)] for offset in range(count)]
            yield compose_scene(faces, frame_index=start, face_size=size)


def matched(found, truth, min_iou=0.5):
    """How many true boxes have a found box overlapping them by ``min_iou``."""
    return sum(any(box_iou(box, true_box) >= min_iou for box in found) for true_box in truth)


@pytest.fixture(scope="module")
def detector():
    return HaarDetector()


def test_default_cascade_is_the_repository_file():
    assert DEFAULT_CASCADE.is_file()
    assert DEFAULT_CASCADE.name == "haarcascade_frontalface_alt2.xml"


def test_finds_every_face_in_composed_scenes(detector):
    for frame, truth in scenes():
        found = detector.detect(frame)
        assert len(found) == len(truth)
        assert matched(found, truth) == len(truth)


def test_boxes_are_int_tuples_inside_the_frame(detector):
    frame, _ = compose_scene(FACES[:2])
    for box in detector.detect(frame):
        assert len(box) == 4 and all(type(value) is int for value in box)
        x, y, w, h = box
        assert 0 <= x and 0 <= y and w > 0 and h > 0 and x + w <= 640 and y + h <= 480


def test_nothing_in_blank_frames(detector):
    assert detector.detect(np.zeros((480, 640, 3), np.uint8)) == []
    assert detector.detect(np.full((480, 640), 255, np.uint8)) == []
    assert detector.detect(gradient_background()) == []


def test_downscaled_detection_finds_the_same_faces_as_full_resolution():
    full, small = HaarDetector(detect_width=None), HaarDetector(detect_width=320)
    for frame, truth in scenes():
        full_boxes, small_boxes = full.detect(frame), small.detect(frame)
        assert len(small_boxes) == len(full_boxes) == len(truth)
        assert matched(small_boxes, full_boxes, min_iou=0.6) == len(full_boxes)


def test_boxes_are_in_full_frame_coordinates_on_big_frames():
    frame, truth = compose_scene(FACES[:2], face_size=280, size=(1280, 960))
    found = HaarDetector(detect_width=320).detect(frame)
    assert len(found) == 2
    assert matched(found, truth) == 2


def test_grey_and_bgr_frames_give_the_same_boxes(detector):
    frame, _ = compose_scene(FACES[3:5])
    assert detector.detect(frame) == detector.detect(to_gray(frame))


def test_min_size_is_in_full_frame_pixels():
    frame, _ = compose_scene(FACES[:1], face_size=100)
    assert HaarDetector(min_size=40).detect(frame)
    assert HaarDetector(min_size=200).detect(frame) == []


def test_missing_cascade_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="cascade"):
        HaarDetector(cascade_path=tmp_path / "missing.xml")


@pytest.mark.parametrize("text", ["", "not xml", "<opencv_storage><x>1</x></opencv_storage>"])
def test_empty_or_foreign_cascade_is_a_clear_error(tmp_path, text):
    cascade = tmp_path / "cascade.xml"
    cascade.write_text(text)
    with pytest.raises(ValueError, match="empty or not an OpenCV cascade"):
        HaarDetector(cascade_path=cascade)


@pytest.mark.parametrize("settings", [dict(scale_factor=1.0), dict(min_neighbors=-1), dict(min_size=0),
                                      dict(detect_width=10)])
def test_bad_settings_are_refused(settings):
    with pytest.raises(ValueError):
        HaarDetector(**settings)


def test_detect_near_finds_each_face_again_after_it_moved(detector):
    for start in range(0, len(FACES), 9):
        faces = [FACES[start % len(FACES)], FACES[(start + 5) % len(FACES)]]
        before, _ = compose_scene(faces, frame_index=0, face_size=140, motion=20)
        after, truth = compose_scene(faces, frame_index=6, face_size=140, motion=20)
        found = detector.detect_near(after, detector.detect(before))
        assert None not in found
        assert matched(found, truth) == len(truth)
        assert all(len(box) == 4 and all(type(value) is int for value in box) for box in found)


def test_detect_near_reports_a_face_that_left_as_none(detector):
    frame, truth = compose_scene(FACES[:2], face_size=140)
    empty = gradient_background()
    half_empty, _ = compose_scene(FACES[:2], face_size=140)
    x, y, w, h = truth[1]
    half_empty[y:y + h, x:x + w] = empty[y:y + h, x:x + w]
    found = detector.detect_near(half_empty, detector.detect(frame))
    assert found[1] is None and matched([found[0]], truth[:1]) == 1
    assert detector.detect_near(empty, []) == []


def test_detect_near_costs_less_than_a_full_search(detector):
    """Not a timing test: the cascade sees fewer pixels around the faces than in the whole frame."""
    frame, truth = compose_scene(FACES[:2], face_size=140)
    searched = []
    real_search = detector.cascade.detectMultiScale

    class CountingCascade:
        def detectMultiScale(self, image, **settings):
            searched.append(image.size)
            return real_search(image, **settings)

    original, detector.cascade = detector.cascade, CountingCascade()
    try:
        detector.detect(frame)
        full_pixels = searched.pop()
        detector.detect_near(frame, truth)
    finally:
        detector.cascade = original
    assert len(searched) == 2 and sum(searched) < full_pixels / 4
