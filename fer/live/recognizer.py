"""Emotion recognition as a function of one picture: detect the faces, crop them, score them.

An :class:`EmotionRecognizer` loads its model and face detector once and keeps no state from
picture to picture, so one recognizer serves the web stream, uploads and any number of videos
at once. The detector is found by name (:mod:`fer.live.detectors`); where it gives the eyes,
each face is set upright (:mod:`fer.live.alignment`) before its crop goes through
:func:`fer.preprocessing.faces_to_batch`, the path the training data took, and all the faces
of a picture go to the model in one call. Following the
faces of a video from frame to frame, and smoothing their scores, is :mod:`fer.live.video`'s job.
"""

import logging
import threading

import numpy as np

from ..deployment.bundle import bundled_litert
from ..locations import DEFAULT_MODEL_DIR
from ..preprocessing import faces_to_batch, to_gray
from ..training.artifacts import load_model
from .alignment import face_crops
from .boxes import checked_boxes
from .detectors import DEFAULT_DETECTOR, make_detector
from .inference import make_scorer

log = logging.getLogger(__name__)

WARM_FACE_COUNTS = (1, 2)
"""Face counts the model runs for at start-up, so that the first frames do not pay for set-up."""


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
    """Finds faces in pictures and scores their emotions with a trained model directory."""

    def __init__(self, model_dir=DEFAULT_MODEL_DIR, detector=DEFAULT_DETECTOR, align=True, int8=True):
        """Load the model (run by LiteRT where it can: see :mod:`fer.live.inference`) and a detector, once.

        ``detector`` is a name of :data:`fer.live.detectors.DETECTORS` (``"haar"``, ``"yunet"``)
        or a detector object; ``align=False`` scores faces as found, not set upright;
        ``int8=False`` scores with the float32 model even where the directory ships an int8
        file that passed its parity check.
        """
        loaded = load_model(model_dir)
        self.model = loaded.model
        self.model_dir = loaded.directory
        self.labels = tuple(loaded.labels)
        self.input_size = loaded.input_size
        self.scorer = make_scorer(self.model, litert_file=bundled_litert(loaded.directory, int8))
        self.detector = make_detector(detector) if isinstance(detector, str) else detector
        self.align = bool(align)
        self.model_calls = 0
        # The LiteRT interpreter and OpenCV's cascade keep per-call state: one thread at a time
        # runs each of them (the rest of a picture's analysis runs in parallel).
        self._model_lock = threading.Lock()
        self._detector_lock = threading.Lock()
        self._warm_up()
        log.info("emotion model %s: %d classes, %d x %d input, run by %s; faces found by %s", self.model_dir,
                 len(self.labels), self.input_size, self.input_size, self.scorer.engine, self.detector_name)

    @property
    def detector_name(self):
        """The face detector's name: ``haar``, ``yunet``."""
        return getattr(self.detector, "name", type(self.detector).__name__)

    @property
    def detection(self):
        """How faces are found, as the API reports it: ``{"detector": name, "aligned": bool}``.

        ``aligned`` is True only where faces are set upright, which needs a detector that finds
        the eyes.
        """
        return {"detector": self.detector_name, "aligned": self.align and getattr(self.detector, "finds_eyes", False)}

    def analyze(self, picture, boxes=None):
        """One dict per face in the BGR (or grey) picture: box, emotion, confidence and scores.

        ``boxes`` (``[[x, y, w, h], ...]``, the caller's own faces) skips detection: one face per
        box, in order, each reported with its box as given (scored on the part inside the picture).
        Raises :class:`fer.live.boxes.BoxError` for a box that cannot be used.
        """
        gray = to_gray(picture)
        if boxes is None:
            boxes = self.find_faces(picture)
            return self.face_results(boxes, self.score_faces(gray, boxes))
        cut = checked_boxes(boxes, gray.shape[1], gray.shape[0])
        return self.face_results([[round(value) for value in box] for box in boxes], self.score_faces(gray, cut))

    def find_faces(self, picture):
        """Boxes ``(x, y, w, h)`` of the faces in a whole BGR (or grey) picture."""
        with self._detector_lock:
            return self.detector.detect(picture)

    def find_faces_near(self, picture, boxes):
        """Each box found again near where it was (None where lost): see :meth:`HaarDetector.detect_near`."""
        with self._detector_lock:
            return self.detector.detect_near(picture, boxes)

    def score_faces(self, gray, boxes):
        """Probabilities of the faces at ``boxes`` of a grey picture, each set upright where it can be,
        in one model call."""
        return self.classify_faces(face_crops(gray, boxes, self.align))

    def face_results(self, boxes, scores, face_ids=None):
        """The face dicts of ``boxes`` with their ``scores`` (and, for a video, their ids)."""
        face_ids = face_ids if face_ids is not None else [None] * len(boxes)
        return [face_result(box, row, self.labels, face_id) for box, row, face_id in zip(boxes, scores, face_ids)]

    def classify_faces(self, faces):
        """Probabilities (``N x len(labels)``) for face crops, grey or BGR, of any size.

        All the faces go to the model in one call; no faces means no call.
        """
        if len(faces) == 0:
            return np.zeros((0, len(self.labels)), np.float32)
        batch = faces_to_batch(faces, self.input_size)
        with self._model_lock:
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
