"""Set a face upright before it is scored: turn its crop so that the eye line is level.

The emotion models learnt from upright faces and lose points on tilted ones (about 3 at 15°
and 15 at 30°). Where the detector measured how a face is turned (:class:`fer.live.boxes.FaceBox`
``angle``, from the eyes), the crop of a box is taken from the picture turned about the box's
centre by that angle, so the model sees the face upright within the same box; the face's box
itself is not changed.
The crop then goes through :func:`fer.preprocessing.face_to_input` as every crop does.
"""

import math

import cv2

LEVEL_ENOUGH = 10.0
"""Faces turned less than this many degrees are cropped as they are: FER-2013's own faces lean
that much, so the models know such faces (and each turn costs a warp). Setting faces upright
gained ten points on faces turned 30° and cost about one on upright faces, with limits of 1°
to 15° alike (docs/detectors.md)."""


def eye_angle(eyes):
    """Degrees the eye line ``(right eye, left eye)`` is turned from level, clockwise as seen."""
    (right_x, right_y), (left_x, left_y) = eyes
    return math.degrees(math.atan2(left_y - right_y, left_x - right_x))


def face_crop(gray, box, align=True):
    """The crop of ``box`` in a grey (or BGR) picture, turned upright when ``align`` and the box
    has an angle.

    A crop that needs no turning is a view of ``gray``, not a copy.
    """
    x, y, w, h = box
    angle = (getattr(box, "angle", None) or 0.0) if align else 0.0
    if abs(angle) < LEVEL_ENOUGH:
        return gray[y:y + h, x:x + w]
    turn = cv2.getRotationMatrix2D((x + w / 2, y + h / 2), angle, 1.0)
    turn[:, 2] -= (x, y)  # straight into the box's own pixels: only the crop is computed
    return cv2.warpAffine(gray, turn, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def face_crops(gray, boxes, align=True):
    """:func:`face_crop` of each box, in order."""
    return [face_crop(gray, box, align) for box in boxes]
