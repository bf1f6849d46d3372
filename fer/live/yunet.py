"""Find faces, and their eyes, with the YuNet network through OpenCV's ``cv2.FaceDetectorYN``.

YuNet finds faces the Haar cascade misses (turned, partly covered, in poor light) for about
the same cost at 320 pixels across, and gives five landmarks per face; the eyes go with each
box (:class:`fer.live.boxes.FaceBox`) so that the face can be set upright before it is scored
(:mod:`fer.live.alignment`).

YuNet's own box runs from brow to chin and is narrower than it is tall. The models learnt
from FER-2013's square crops, which take in the forehead and the cheeks, so each box is
turned into that square: as tall as YuNet's box, as wide as it is tall, centred a little above
YuNet's centre. That square is the box reported and drawn.

YuNet reads the eye line of a turned face as turned much less than it is: a third of the
angle or less where the face spans 75 pixels, about half where it spans 150 (measured on
FER-2013 faces turned 10° to 30°). So each face is looked at again in a small window turned by
its angle so far, and the angle grows by the rest YuNet still reads there, 1.75 times over (its
under-reading); after up to four such passes the median error on faces turned 20° is 1.5° to
3° (fixture faces turned one way or the other), against about 14° from the whole frame alone.
In a video, :meth:`YuNetDetector.detect_near` makes one such pass a frame as it follows the face.

The network is loaded twice, once for whole frames (its input size follows the frame size)
and once, at a fixed small size, for the windows: switching one net's input size costs about
as much as a small search.
"""

import logging
import pathlib

import cv2
import numpy as np

from ..locations import ROOT
from .alignment import eye_angle
from .boxes import FaceBox, detection_sizes, shrink_scale

log = logging.getLogger(__name__)

DEFAULT_YUNET = ROOT / "models" / "detectors" / "yunet_n_320_320.onnx"
"""The YuNet export shipped with the project (licence and source beside it)."""
NMS_THRESHOLD = 0.3
TOP_K = 50
"""Boxes overlapping by this IoU are one face; at most this many candidates are kept."""
SQUARE_RAISE = 0.05
"""How far above YuNet's centre, in box heights, the square crop is centred: measured on FER
faces pasted into frames, YuNet's centre sits 5 % of the face's side below the crop's."""
NEAR_INPUT = 128
WINDOW_SIDE = 1.4
"""Side, in pixels, of the window a known face is searched for again in, and that window's
side in face sides: the face spans about 90 of its pixels, where YuNet places the eyes best."""
ANGLE_GAIN = 1.75
"""Each pass adds this many times the angle YuNet still reads in the turned window."""
UPRIGHT_PASSES = 4
LEVEL_STOP = 1.0
"""A face found in the whole frame is searched for again in turned windows at most this many
times, stopping once a pass changes its angle by less than this many degrees."""


class YuNetDetector:
    """A YuNet face detector; ``detect(frame)`` returns square :class:`FaceBox` es with eyes and angle."""

    name = "yunet"
    finds_eyes = True

    def __init__(self, model_path=DEFAULT_YUNET, score_threshold=0.5, min_size=40, detect_width=320):
        """Load the network once.

        ``score_threshold`` is the least confidence a face is kept at (0.5 found 92 % of upright
        FER-2013 faces, with three boxes on no face in 600 frames of four; 0.7 found 88 %);
        ``min_size`` the smallest face side in full-frame pixels; ``detect_width`` the width the
        frame is shrunk to before detection (``None``: full resolution).
        """
        if not 0.0 < score_threshold < 1.0:
            raise ValueError(f"score_threshold must lie between 0 and 1, got {score_threshold}")
        min_size, detect_width = detection_sizes(min_size, detect_width)
        model_path = pathlib.Path(model_path)
        if not model_path.is_file():
            raise FileNotFoundError(f"YuNet model {model_path} not found; pass model_path= the path of a YuNet "
                                    "ONNX file such as models/detectors/yunet_n_320_320.onnx")
        self.model_path = model_path
        self.score_threshold = float(score_threshold)
        self.min_size, self.detect_width = min_size, detect_width
        self._whole = self._load((320, 320))
        self._whole_size = (320, 320)
        self._near = self._load((NEAR_INPUT, NEAR_INPUT))
        log.debug("loaded YuNet %s", model_path)

    def _load(self, input_size):
        try:
            return cv2.FaceDetectorYN.create(str(self.model_path), "", input_size, self.score_threshold,
                                             NMS_THRESHOLD, TOP_K)
        except cv2.error as error:
            raise ValueError(f"{self.model_path} is not a YuNet ONNX model OpenCV can load: "
                             f"{str(error).strip().splitlines()[-1]}") from None

    def detect(self, frame):
        """Boxes of the faces in a grey or BGR frame, in full-frame pixels, left to right.

        Each face found in the whole (shrunk) frame is looked at again, up to
        ``UPRIGHT_PASSES`` times, in a window turned by its angle so far (see
        :meth:`_window_search`): that finds its box, eyes and angle more exactly.
        """
        image = _to_bgr(frame)
        height, width = image.shape[:2]
        scale = shrink_scale(width, self.detect_width)
        small = image
        if scale < 1.0:
            small = cv2.resize(image, (self.detect_width, max(1, round(height * scale))),
                               interpolation=cv2.INTER_AREA)
        size = (small.shape[1], small.shape[0])
        if size != self._whole_size:
            self._whole.setInputSize(size)
            self._whole_size = size
        grown_back = np.float64([[1 / scale, 0, 0], [0, 1 / scale, 0]])
        faces = [_face_box(row, grown_back, width, height) for row in _rows(self._whole.detect(small)[1])]
        faces = [self._set_upright(image, face) for face in faces if face is not None]
        return sorted(face for face in faces if face[2] >= self.min_size)

    def _set_upright(self, image, face):
        """``face`` found again in windows turned by its angle so far, until a pass changes it little."""
        for _ in range(UPRIGHT_PASSES):
            again = self._window_search(image, face)
            if again is None:
                break
            face, turned = again, abs(again.angle - face.angle)
            if turned < LEVEL_STOP:
                break
        return face

    def detect_near(self, frame, boxes):
        """Each face of ``boxes`` found again in ``frame``: a list of boxes, ``None`` where it is gone.

        Face ``(x, y, w, h)`` is searched for only in a square window ``WINDOW_SIDE`` times its
        side around its centre, turned by its angle (where the box has one), so that the face's
        angle keeps being made more exact from frame to frame at no extra cost.
        """
        image = _to_bgr(frame)
        return [self._window_search(image, box) for box in boxes]

    def _window_search(self, image, box):
        """The face of ``box`` found in a ``NEAR_INPUT``-pixel window around it, or None.

        The window is cut from the image turned about the box's centre by the box's angle (not
        at all where it has none), so the network sees the face nearly upright, where its
        landmarks are surest. The found box and eyes are mapped back into the image, and the
        angle grows by ``ANGLE_GAIN`` times the eye line's angle in the window.
        """
        height, width = image.shape[:2]
        x, y, w, h = box
        angle = getattr(box, "angle", None) or 0.0
        centre = (x + w / 2, y + h / 2)
        turn = cv2.getRotationMatrix2D(centre, angle, NEAR_INPUT / (max(w, h) * WINDOW_SIDE))
        turn[:, 2] += (NEAR_INPUT / 2 - centre[0], NEAR_INPUT / 2 - centre[1])
        window = cv2.warpAffine(image, turn, (NEAR_INPUT, NEAR_INPUT), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_CONSTANT)
        rows = _rows(self._near.detect(window)[1])
        if len(rows) == 0:
            return None
        middle = NEAR_INPUT / 2
        row = min(rows, key=lambda found: (found[0] + found[2] / 2 - middle) ** 2
                  + (found[1] + found[3] / 2 - middle) ** 2)  # the face nearest the window's centre
        found = _face_box(row, cv2.invertAffineTransform(turn), width, height)
        if found is not None:
            found.angle = angle + ANGLE_GAIN * (eye_angle(found.eyes) - angle)
        return found


def _to_bgr(frame):
    """A 3-channel uint8 view or copy of a grey, BGR or BGRA frame (the network takes three)."""
    frame = np.asarray(frame)
    if frame.dtype != np.uint8:
        frame = np.clip(frame, 0, 255).astype(np.uint8)
    if frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] == 1):
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if frame.ndim == 3 and frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    if frame.ndim == 3 and frame.shape[2] == 3:
        return frame
    raise ValueError(f"expected a grey or BGR image, got an array of shape {frame.shape}")


def _rows(rows):
    return () if rows is None else rows


def _face_box(row, back, width, height):
    """One YuNet row as a square :class:`FaceBox` in the frame; None when it lies wholly outside.

    ``back`` is the 2x3 affine map from the searched image (shrunk, or a turned window) to the
    frame. The square is as tall as YuNet's box, centred ``SQUARE_RAISE`` of it above YuNet's
    centre (along the face's own up), and upright in the frame.
    """
    x, y, w, h = (float(value) for value in row[:4])
    points = np.float64([[x + w / 2, y + h / 2 - SQUARE_RAISE * h], [row[4], row[5]], [row[6], row[7]]])
    (centre_x, centre_y), right_eye, left_eye = (points @ back[:, :2].T + back[:, 2]).tolist()
    side = h * float(np.hypot(back[0, 0], back[1, 0]))
    left, top = max(0, round(centre_x - side / 2)), max(0, round(centre_y - side / 2))
    right, bottom = min(width, round(centre_x + side / 2)), min(height, round(centre_y + side / 2))
    if right - left < 1 or bottom - top < 1:
        return None
    eyes = (tuple(right_eye), tuple(left_eye))
    return FaceBox((left, top, right - left, bottom - top), eyes=eyes, angle=eye_angle(eyes))
