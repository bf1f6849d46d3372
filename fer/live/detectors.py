"""The face detectors, chosen by name: ``haar`` (the default) and ``yunet``.

Each is a small class with ``detect(frame)`` and ``detect_near(frame, boxes)`` returning boxes
(with the eyes, where it finds them) and a ``name``; the recognizer, the video analysis and the
commands never ask which one they hold.
"""

from .haar import HaarDetector
from .yunet import YuNetDetector

DETECTORS = {"haar": HaarDetector, "yunet": YuNetDetector}
"""Detector classes by the name ``--detector`` takes."""
DEFAULT_DETECTOR = "haar"


def make_detector(name=DEFAULT_DETECTOR, detect_width=320, **options):
    """A detector of that name, frames shrunk to ``detect_width`` (0 or None: full size)."""
    if name not in DETECTORS:
        raise ValueError(f"unknown face detector {name!r}; choose from {', '.join(DETECTORS)}")
    return DETECTORS[name](detect_width=detect_width or None, **options)
