"""Synthetic test scenes and clips made of real FER-2013 faces.

Tests and benchmarks need video with faces in it and no camera. A scene is a 640 x 480 BGR
frame with a soft gradient background and N real 48 x 48 FER-2013 faces grown to ~140 px,
each drifting a few pixels from frame to frame so tracking has something to follow. The
faces are the committed PNGs under ``tests/fixtures/faces/`` (``<emotion>_<n>.png``), chosen
because the Haar cascade finds them at every size and detection width used here.
Clips are written with :func:`fer.live.video_writer.open_video_writer`, as ``camera.py --output`` is.
"""

import logging
import math
import pathlib

import cv2
import numpy as np

from fer.live.video_writer import open_video_writer

log = logging.getLogger(__name__)

FACES_DIR = pathlib.Path(__file__).resolve().parent / "fixtures" / "faces"
"""The committed fixture faces."""

SCENE_SIZE = (640, 480)
"""Width and height of a composed scene."""

FACE_SIZE = 140
"""Side, in scene pixels, that the 48-pixel faces are grown to."""

def load_faces(folder=FACES_DIR):
    """The fixture faces as ``(name, gray_face)`` pairs in name order (name like ``happy_2``)."""
    folder = pathlib.Path(folder)
    paths = sorted(folder.glob("*.png"))
    if not paths:
        raise FileNotFoundError(f"{folder}: no face PNGs")
    faces = []
    for path in paths:
        gray_face = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if gray_face is None:
            raise ValueError(f"{path}: not a readable image")
        faces.append((path.stem, gray_face))
    return faces


def face_emotion(name):
    """The emotion in a fixture face name: ``"happy_2"`` -> ``"happy"``."""
    return name.rsplit("_", 1)[0]


def gradient_background(size=SCENE_SIZE):
    """A plain vertical blue-grey gradient, ``height x width x 3`` BGR."""
    width, height = size
    ramp = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, np.newaxis]
    top, bottom = np.array([150, 120, 100], np.float32), np.array([70, 60, 50], np.float32)
    column = (top + (bottom - top) * ramp).astype(np.uint8)
    return np.ascontiguousarray(np.broadcast_to(column[:, np.newaxis, :], (height, width, 3)))


def face_positions(count, face_size=FACE_SIZE, size=SCENE_SIZE):
    """Top-left corners centring ``count`` faces in a near-square grid of cells."""
    if count < 1:
        return []
    width, height = size
    columns = math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    cell_w, cell_h = width // columns, height // rows
    if face_size > min(cell_w, cell_h):
        raise ValueError(f"{count} faces of {face_size} px do not fit a {width} x {height} scene")
    return [((index % columns) * cell_w + (cell_w - face_size) // 2,
             (index // columns) * cell_h + (cell_h - face_size) // 2) for index in range(count)]


def compose_scene(faces, frame_index=0, face_size=FACE_SIZE, size=SCENE_SIZE, motion=6, background=None):
    """A BGR scene with each grey face grown to ``face_size`` and drifting up to ``motion`` px.

    Returns ``(frame, boxes)``: the ``(x, y, w, h)`` where each face was pasted, in order.
    """
    frame = gradient_background(size) if background is None else background.copy()
    boxes = []
    for index, ((x, y), face) in enumerate(zip(face_positions(len(faces), face_size, size), faces)):
        phase = frame_index / 12.0 + index * 1.7
        x += round(motion * math.sin(phase))
        y += round(motion * math.cos(phase * 0.8))
        x = min(max(0, x), size[0] - face_size)
        y = min(max(0, y), size[1] - face_size)
        grown = cv2.resize(np.asarray(face, np.uint8), (face_size, face_size), interpolation=cv2.INTER_CUBIC)
        frame[y:y + face_size, x:x + face_size] = grown[:, :, np.newaxis]
        boxes.append((x, y, face_size, face_size))
    return frame, boxes


def turned_scene(face, angle, face_size=150, size=SCENE_SIZE, centre=None):
    """A BGR scene with one grey face grown to ``face_size`` and turned ``angle`` degrees
    counter-clockwise as seen (clockwise for a negative angle), about its centre.

    Returns ``(frame, box)``: the upright square the face was pasted in.
    """
    frame = gradient_background(size)
    grown = cv2.resize(np.asarray(face, np.uint8), (face_size, face_size), interpolation=cv2.INTER_CUBIC)
    turn = cv2.getRotationMatrix2D((face_size / 2, face_size / 2), angle, 1.0)
    turned = cv2.warpAffine(grown, turn, (face_size, face_size), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REPLICATE)
    centre_x, centre_y = centre or (size[0] // 2, size[1] // 2)
    x, y = centre_x - face_size // 2, centre_y - face_size // 2
    frame[y:y + face_size, x:x + face_size] = turned[:, :, np.newaxis]
    return frame, (x, y, face_size, face_size)


def write_clip(path, faces, frames=30, fps=15.0, face_size=FACE_SIZE, size=SCENE_SIZE):
    """Write ``frames`` scenes of ``faces`` to an ``.mp4`` (mp4v) or ``.avi`` (MJPG) file.

    Returns the true boxes of every frame, a list per frame.
    """
    writer = open_video_writer(path, fps, size)
    background = gradient_background(size)
    all_boxes = []
    try:
        for frame_index in range(frames):
            frame, boxes = compose_scene(faces, frame_index, face_size, size, background=background)
            writer.write(frame)
            all_boxes.append(boxes)
    finally:
        writer.release()
    log.debug("wrote %d frames of %d faces to %s", frames, len(faces), path)
    return all_boxes


class FixedDetector:
    """A detector that reports the boxes it is given, to place faces exactly."""

    def __init__(self, boxes):
        self.boxes = boxes

    def detect(self, frame):
        return list(self.boxes)

    def detect_near(self, frame, boxes):
        return list(self.boxes)
