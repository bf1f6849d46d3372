"""Sample faces shipped with the demo (``static/gallery/<emotion>/*.png``) and the model's view of them.

``scripts/make_gallery.py`` writes the pictures from a FER-2013 CSV. The web app shows them
per emotion with the model's own prediction beneath each, worked out once, in one batch,
the first time any gallery page is asked for.
"""

import dataclasses
import logging
import pathlib
import threading

import cv2

from ..labels import EMOTIONS
from ..locations import ROOT

log = logging.getLogger(__name__)

GALLERY_ROOT = ROOT / "static" / "gallery"
"""Where the sample faces live: one folder per emotion."""


@dataclasses.dataclass(frozen=True)
class GalleryFace:
    """One sample face: its file name in its emotion's folder, true emotion and the model's guess."""

    name: str
    emotion: str
    predicted: str
    confidence: float

    @property
    def correct(self):
        """Whether the model agrees with the data set's label."""
        return self.predicted == self.emotion


class Gallery:
    """The sample faces of each emotion, with predictions cached after the first request."""

    def __init__(self, root=GALLERY_ROOT, emotions=EMOTIONS):
        """Remember where the faces are; nothing is read until :meth:`faces` is called."""
        self.root = pathlib.Path(root)
        self.emotions = tuple(emotions)
        self._faces = None
        self._lock = threading.Lock()

    def paths(self, emotion):
        """The PNG files of one emotion, sorted by name (empty if it has none)."""
        folder = self.root / emotion
        return sorted(folder.glob("*.png")) if folder.is_dir() else []

    def faces(self, emotion, recognizer):
        """The :class:`GalleryFace` list of ``emotion``, predicted by ``recognizer`` on first use."""
        if emotion not in self.emotions:
            raise KeyError(emotion)
        with self._lock:
            if self._faces is None:
                self._faces = self._predict_all(recognizer)
        return self._faces[emotion]

    def _predict_all(self, recognizer):
        """Read every sample face and score them all in one ``recognizer.classify_faces`` call."""
        entries, crops = [], []
        for emotion in self.emotions:
            for path in self.paths(emotion):
                gray_face = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
                if gray_face is None:
                    log.warning("gallery: %s is not a readable image; leaving it out", path)
                    continue
                entries.append((emotion, path.name))
                crops.append(gray_face)
        faces = {emotion: [] for emotion in self.emotions}
        if not crops:
            log.warning("gallery %s has no faces; run scripts/make_gallery.py", self.root)
            return faces
        scores = recognizer.classify_faces(crops)
        for (emotion, name), row in zip(entries, scores):
            best = int(row.argmax())
            faces[emotion].append(GalleryFace(name, emotion, recognizer.labels[best], float(row[best])))
        log.info("gallery: predicted %d sample faces in one batch", len(crops))
        return faces
