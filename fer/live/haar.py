"""Find faces in a frame with OpenCV's Haar cascade, loaded once per :class:`HaarDetector`.

Detection runs on a grey copy of the frame shrunk to ``detect_width`` pixels across: the
cascade's cost grows with the pixel count, and faces big enough to read an emotion from stay
well above its 20-pixel window at that width. Boxes come back in full-frame coordinates.

:meth:`HaarDetector.detect_near` looks again for faces already found, each in a small window
around its last box and only at sizes close to its last size: in a video, where faces move
little from one frame to the next, that costs a fraction of a search of the whole frame.
"""

import logging
import pathlib

import cv2

from ..locations import ROOT
from ..preprocessing import to_gray
from .boxes import best_overlap, detection_sizes, shrink_scale, to_frame_box

log = logging.getLogger(__name__)

DEFAULT_CASCADE = ROOT / "haarcascade_frontalface_alt2.xml"
"""The frontal-face cascade shipped at the top of the repository."""
NEAR_SCALE_FACTOR = 1.15
NEAR_MIN_NEIGHBORS = 3
"""Cascade settings of :meth:`HaarDetector.detect_near`: coarser and less strict than a full
search, as it only confirms a face it already knows is there, within a narrow band of sizes."""


class HaarDetector:
    """A Haar-cascade face detector; ``detect(frame)`` returns ``(x, y, w, h)`` boxes (no landmarks)."""

    name = "haar"
    finds_eyes = False

    def __init__(self, cascade_path=DEFAULT_CASCADE, scale_factor=1.1, min_neighbors=5, min_size=40,
                 detect_width=320):
        """Load the cascade once.

        ``min_size`` is the smallest face side in full-frame pixels; ``detect_width`` the width
        the frame is shrunk to before detection (``None``: full resolution). (Equalising the
        grey histogram first lost about a fifth of the faces of real FER-2013 test scenes, in dim
        light too, so the frame goes to the cascade as it is.)
        """
        if not scale_factor > 1.0:
            raise ValueError(f"scale_factor must be above 1.0, got {scale_factor}")
        if min_neighbors < 0:
            raise ValueError(f"min_neighbors must be 0 or more, got {min_neighbors}")
        min_size, detect_width = detection_sizes(min_size, detect_width)
        cascade_path = pathlib.Path(cascade_path)
        if not cascade_path.is_file():
            raise FileNotFoundError(f"face cascade {cascade_path} not found; pass cascade_path= the path of "
                                    "an OpenCV Haar cascade XML such as haarcascade_frontalface_alt2.xml")
        self.cascade = cv2.CascadeClassifier()
        try:
            loaded = self.cascade.load(str(cascade_path))
        except cv2.error:
            loaded = False
        if not loaded or self.cascade.empty():
            raise ValueError(f"face cascade {cascade_path} is empty or not an OpenCV cascade XML file")
        self.cascade_path = cascade_path
        self.scale_factor = float(scale_factor)
        self.min_neighbors = int(min_neighbors)
        self.min_size, self.detect_width = min_size, detect_width
        log.debug("loaded face cascade %s", cascade_path)

    def detect(self, frame):
        """Boxes ``(x, y, w, h)`` of the faces in a grey or BGR frame, in full-frame pixels, left to right."""
        gray_frame = to_gray(frame)
        height, width = gray_frame.shape
        scale = shrink_scale(width, self.detect_width)
        if scale < 1.0:
            small_size = (self.detect_width, max(1, round(height * scale)))
            gray_frame = cv2.resize(gray_frame, small_size, interpolation=cv2.INTER_AREA)
        min_side = max(1, round(self.min_size * scale))
        found = self.cascade.detectMultiScale(gray_frame, scaleFactor=self.scale_factor,
                                              minNeighbors=self.min_neighbors, minSize=(min_side, min_side))
        # OpenCV's parallel search returns faces in no fixed order; sort them so that results are repeatable.
        return sorted(to_frame_box(box, scale, width, height) for box in found)

    def detect_near(self, frame, boxes, margin=0.25, face_pixels=48, size_range=(0.8, 1.25)):
        """Each face of ``boxes`` found again in ``frame``: a list of boxes, ``None`` where it is gone.

        Face ``(x, y, w, h)`` is searched for only within ``margin * w`` of its box, shrunk so
        that it spans about ``face_pixels`` pixels, at sizes between ``size_range`` times
        ``w``. Of several finds, the one overlapping the old box most wins.
        """
        gray_frame = to_gray(frame)
        return [self._detect_near_box(gray_frame, box, margin, face_pixels, size_range) for box in boxes]

    def _detect_near_box(self, gray_frame, box, margin, face_pixels, size_range):
        height, width = gray_frame.shape
        x, y, w, h = box
        pad = round(max(w, h) * margin)
        left, top = max(0, x - pad), max(0, y - pad)
        right, bottom = min(width, x + w + pad), min(height, y + h + pad)
        if right - left < 2 or bottom - top < 2:
            return None
        scale = min(1.0, face_pixels / max(1, w))
        window = gray_frame[top:bottom, left:right]
        if scale < 1.0:
            window = cv2.resize(window, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        smallest = max(1, round(max(self.min_size, w * size_range[0]) * scale))
        largest = max(smallest + 1, round(w * size_range[1] * scale))
        found = self.cascade.detectMultiScale(window, scaleFactor=NEAR_SCALE_FACTOR, minNeighbors=NEAR_MIN_NEIGHBORS,
                                              minSize=(smallest, smallest), maxSize=(largest, largest))
        return best_overlap([to_frame_box(found_box, scale, width, height, offset=(left, top))
                             for found_box in found], box)
