"""Live emotion recognition: detect faces in a frame, classify them in one batch, smooth, draw.

An :class:`EmotionRecognizer` loads its model and face detector once. Each video frame costs
one face search (around the faces of the frame before, or of the whole frame: see
:mod:`fer.follower`) and at most one model call, whatever the number of faces: every crop goes
through :func:`fer.preprocessing.faces_to_batch`, the same path the training data took. One
recognizer may serve several threads (the web stream and uploads): they take turns.
"""

import logging
import pathlib
import threading

import numpy as np

from .artifacts import load_model
from .detector import FaceDetector
from .drawing import draw_faces
from .follower import FaceFollower
from .inference import make_scorer
from .locations import DEFAULT_MODEL_DIR
from .preprocessing import faces_to_batch, to_gray
from .tracking import FaceTracker

log = logging.getLogger(__name__)

WARM_FACE_COUNTS = (1, 2)
"""Face counts the model runs for at start-up, so that the first frames do not pay for set-up."""


def crop_faces(frame, boxes):
    """The ``(x, y, w, h)`` regions of ``frame`` as views (no copies), in box order."""
    return [frame[y:y + h, x:x + w] for x, y, w, h in boxes]


def face_result(box, scores, labels, face_id=None):
    """The plain dict reported for one face: box, top emotion, its confidence, all scores.

    Faces of a video also carry ``id``, the same for one face followed from frame to frame.
    """
    best = int(np.argmax(scores))
    result = {"box": [int(value) for value in box], "emotion": labels[best],
              "confidence": float(scores[best]),
              "scores": {label: float(score) for label, score in zip(labels, scores)}}
    if face_id is not None:
        result["id"] = int(face_id)
    return result


class EmotionRecognizer:
    """Finds faces in frames and scores their emotions with a trained model directory."""

    def __init__(self, model_dir=DEFAULT_MODEL_DIR, detector=None, smoothing=True, full_search_every=8,
                 engine="litert"):
        """Load the model (and, unless one is given, a default :class:`FaceDetector`) once.

        ``full_search_every`` is how often video frames are searched whole (see
        :class:`~fer.follower.FaceFollower`; 1: every frame). ``engine`` runs the model:
        ``litert`` (exported at start-up, fastest on CPUs) or ``keras`` (see :mod:`fer.inference`).
        """
        loaded = load_model(model_dir)
        self.model = loaded.model
        self.model_dir = loaded.directory
        self.labels = tuple(loaded.labels)
        self.input_size = loaded.input_size
        self.scorer = make_scorer(self.model, engine)
        self.detector = detector if detector is not None else FaceDetector()
        self.follower = FaceFollower(self.detector, full_search_every)
        self._smoothing = bool(smoothing)
        self.tracker = self._new_tracker()
        self.model_calls = 0
        # OpenCV's cascade keeps per-image state while it detects, and the tracker is shared
        # state too: one thread at a time runs a frame through them.
        self._lock = threading.RLock()
        self._warm_up()
        log.info("emotion model %s: %d classes, %d x %d input, run by %s", self.model_dir, len(self.labels),
                 self.input_size, self.input_size, self.scorer.engine)

    @property
    def smoothing(self):
        """Whether scores are averaged over time per tracked face; setting it forgets the tracks."""
        return self._smoothing

    @smoothing.setter
    def smoothing(self, enabled):
        self._smoothing = bool(enabled)
        self.tracker = self._new_tracker()

    def _new_tracker(self):
        """Follows faces for their ids; averages their scores only when smoothing."""
        return FaceTracker() if self._smoothing else FaceTracker(alpha=1.0)

    def reset(self):
        """Forget the followed and tracked faces (a new video or source)."""
        with self._lock:
            self.follower.reset()
            self.tracker.reset()

    def classify_faces(self, faces):
        """Probabilities (``N x len(labels)``) for face crops, grey or BGR, of any size.

        All the faces go to the model in one call; no faces means no call.
        """
        if len(faces) == 0:
            return np.zeros((0, len(self.labels)), np.float32)
        batch = faces_to_batch(faces, self.input_size)
        with self._lock:
            self.model_calls += 1
            return self._infer(batch)

    def _infer(self, batch):
        """Scores for a uint8 batch, one call of the scorer.

        ``model.predict``, the tutorials' way, sets up a dataset and callbacks on every call
        (about 90 ms) and an eager ``model(batch)`` runs layer by layer in Python (about 12 ms).
        """
        return self.scorer(batch.astype(np.float32))

    def _warm_up(self):
        """Run the model now for one to a few faces (tracing, allocation), not on live frames."""
        for faces in WARM_FACE_COUNTS:
            self._infer(np.zeros((faces, self.input_size, self.input_size, 1), np.uint8))

    def analyze(self, frame, still=False):
        """One dict per face in the BGR (or grey) video frame: box, emotion, confidence and scores.

        ``still=True`` scores a picture on its own (an upload): the whole picture is searched,
        its scores are not smoothed, and the faces followed in the video stay as they were.
        """
        gray_frame = to_gray(frame)
        with self._lock:
            boxes = self.detector.detect(gray_frame) if still else self.follower.detect(gray_frame)
            scores = self.classify_faces(crop_faces(gray_frame, boxes))
            ids = [None] * len(boxes)
            if not still:
                ids, scores = self.tracker.update(boxes, scores)
        return [face_result(box, row, self.labels, face_id) for box, row, face_id in zip(boxes, scores, ids)]

    def annotate(self, frame, faces):
        """Draw each face's box, label and score chart on ``frame`` (in place) and return it."""
        return draw_faces(frame, faces)
