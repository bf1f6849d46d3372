"""The state of one video: its faces followed from frame to frame and their scores smoothed.

A :class:`VideoAnalysis` belongs to one video (a camera run, one opening of a stream's
source); a new video gets a new one. Each frame's faces are searched
around where they were (:class:`~fer.live.follower.FaceFollower`), scored by the shared, stateless
:class:`~fer.live.recognizer.EmotionRecognizer` in one model call, and each face keeps an id and
smoothed scores (:class:`~fer.live.smoothing.ScoreSmoother`).
"""

from ..preprocessing import to_gray
from .follower import FaceFollower
from .smoothing import ScoreSmoother


class VideoAnalysis:
    """Analyses the frames of one video in order with a shared recognizer."""

    def __init__(self, recognizer, smoothing=True, full_search_every=8):
        """``smoothing=False`` keeps each frame's own scores (faces still get ids);
        ``full_search_every`` is how often the whole frame is searched (1: every frame)."""
        self.recognizer = recognizer
        self.follower = FaceFollower(recognizer.find_faces, recognizer.find_faces_near, full_search_every)
        self.smoother = ScoreSmoother() if smoothing else ScoreSmoother(alpha=1.0)

    def analyze(self, frame):
        """One dict per face in the BGR (or grey) frame: box, emotion, confidence, scores and ``id``."""
        boxes = self.follower.detect(frame)
        gray = to_gray(frame)
        face_ids, scores = self.smoother.update(boxes, self.recognizer.score_faces(gray, boxes))
        return self.recognizer.face_results(boxes, scores, face_ids)
