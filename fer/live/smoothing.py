"""Smooth the emotion scores of each face of a video over time, following faces by box overlap.

Per-frame scores flicker: a blink or a shadow swings a face from "neutral" to "sad" and back.
Each face keeps a track, matched to the next frame's boxes by intersection over union (IoU),
and its scores are an exponential moving average over the frames it was seen in. A track not
seen for ``max_missed`` frames in a row is dropped, so a face that leaves and comes back
starts afresh.
"""

import dataclasses
import itertools

import numpy as np

from .boxes import match_boxes


@dataclasses.dataclass
class Track:
    """One face followed over time: its last box, smoothed scores and frames unseen."""

    track_id: int
    box: tuple
    scores: np.ndarray
    missed: int = 0


class ScoreSmoother:
    """Follows faces by IoU and keeps an exponential moving average of each face's scores."""

    def __init__(self, alpha=0.35, min_iou=0.3, max_missed=5):
        """``alpha`` is the weight of the newest scores (1.0: no smoothing)."""
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"alpha must lie in (0, 1], got {alpha}")
        if not 0.0 < min_iou <= 1.0:
            raise ValueError(f"min_iou must lie in (0, 1], got {min_iou}")
        if max_missed < 0:
            raise ValueError(f"max_missed must be 0 or more, got {max_missed}")
        self.alpha = float(alpha)
        self.min_iou = float(min_iou)
        self.max_missed = int(max_missed)
        self.tracks = []
        self._next_id = itertools.count()

    def reset(self):
        """Forget every track (a new video or source)."""
        self.tracks = []

    def update(self, boxes, scores):
        """Match this frame's boxes to tracks and return ``(track_ids, smoothed_scores)``.

        ``scores`` is ``N x C``, one row per box; the result keeps the order of ``boxes``.
        """
        scores = np.asarray(scores, dtype=np.float32)
        if len(boxes) != len(scores):
            raise ValueError(f"{len(boxes)} boxes but {len(scores)} rows of scores")
        pairs = match_boxes([track.box for track in self.tracks], boxes, self.min_iou)
        track_for_box = {new: self.tracks[old] for old, new in pairs}
        for track in self.tracks:
            track.missed += 1
        for index, box in enumerate(boxes):
            track = track_for_box.get(index)
            if track is None:
                track = Track(next(self._next_id), tuple(box), scores[index].copy())
                self.tracks.append(track)
                track_for_box[index] = track
            else:
                track.scores = self.alpha * scores[index] + (1.0 - self.alpha) * track.scores
                track.box = tuple(box)
            track.missed = 0
        self.tracks = [track for track in self.tracks if track.missed <= self.max_missed]
        smoothed = np.empty_like(scores)
        for index in range(len(boxes)):
            smoothed[index] = track_for_box[index].scores
        return [track_for_box[index].track_id for index in range(len(boxes))], smoothed
