"""fer.live.alignment: faces turned upright by their measured angle, in the detector's own box."""

import statistics

import cv2
import numpy as np
import pytest

from clips import load_faces, turned_scene
from fer.live.alignment import eye_angle, face_crop, face_crops
from fer.live.boxes import FaceBox
from fer.live.yunet import YuNetDetector

FACES = [gray_face for _, gray_face in load_faces()]


def test_eye_angle_is_clockwise_as_seen():
    assert eye_angle(((10, 20), (30, 20))) == 0.0
    assert eye_angle(((10, 20), (30, 40))) == pytest.approx(45.0)  # the left eye (picture's right) lower
    assert eye_angle(((10, 20), (30, 0))) == pytest.approx(-45.0)


def dots(angle, size=200):
    """A picture with two bright dots 80 px apart on a line turned ``angle`` degrees clockwise as seen,
    and the FaceBox around them with that angle."""
    picture = np.zeros((size, size), np.uint8)
    centre = np.array([size / 2, size / 2])
    step = 40 * np.array([np.cos(np.radians(angle)), np.sin(np.radians(angle))])
    right_eye, left_eye = centre - step, centre + step
    for x, y in (right_eye, left_eye):
        cv2.circle(picture, (round(x), round(y)), 6, 255, -1)
    return picture, FaceBox((40, 40, 120, 120), eyes=(tuple(right_eye), tuple(left_eye)), angle=angle)


def dot_heights(crop):
    """The mean row of the bright pixels in the left and right halves of ``crop``."""
    half = crop.shape[1] // 2
    return [np.nonzero(part > 128)[0].mean() for part in (crop[:, :half], crop[:, half:])]


@pytest.mark.parametrize("angle", [20.0, -20.0, 35.0])
def test_the_crop_is_turned_so_that_the_eye_line_is_level(angle):
    picture, box = dots(angle)
    left_height, right_height = dot_heights(face_crop(picture, box))
    assert abs(left_height - right_height) < 1.0
    assert face_crop(picture, box).shape == (120, 120), "the crop keeps the box's size"
    turned_left, turned_right = dot_heights(face_crop(picture, box, align=False))
    assert abs(turned_left - turned_right) > 20


def test_a_level_box_or_no_angle_gives_a_view_not_a_copy():
    picture, box = dots(0.4)
    assert np.shares_memory(face_crop(picture, box), picture)
    assert np.shares_memory(face_crop(picture, (40, 40, 120, 120)), picture)
    _, turned = dots(20.0)
    assert np.shares_memory(face_crop(picture, turned, align=False), picture)
    assert [crop.shape for crop in face_crops(picture, [box, turned])] == [(120, 120), (120, 120)]


def test_a_real_face_turned_20_degrees_comes_out_level_within_3_degrees():
    """YuNet's angle of each fixture face turned ±20° against the angle it reads on the same face
    upright: the difference is how far from level the crop comes out."""
    detector = YuNetDetector()
    errors = []
    for face in FACES:
        upright = detector.detect(turned_scene(face, 0)[0])
        for turn in (20, -20):
            frame, _ = turned_scene(face, turn)  # turned counter-clockwise: the eye line reads -20°
            found = detector.detect(frame)
            if upright and found:
                errors.append(abs(found[0].angle - (upright[0].angle - turn)))
    assert len(errors) >= 0.8 * 2 * len(FACES)
    assert statistics.median(errors) <= 3.0


def test_the_crop_of_a_turned_face_matches_the_upright_face():
    """The crop a turned face gives looks more like the face upright than the unturned crop does."""
    detector = YuNetDetector()
    closer = 0
    for face in FACES[:12]:
        frame, truth = turned_scene(face, 20)
        found = detector.detect(frame)
        if not found:
            continue
        upright, _ = turned_scene(face, 0)
        x, y, w, h = found[0]
        reference = cv2.cvtColor(upright, cv2.COLOR_BGR2GRAY)[y:y + h, x:x + w].astype(np.float32)
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        aligned, plain = (face_crop(gray, found[0], align).astype(np.float32) for align in (True, False))
        closer += np.abs(aligned - reference).mean() < np.abs(plain - reference).mean()
    assert closer >= 9
