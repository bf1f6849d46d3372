"""Follow faces from frame to frame by box overlap and smooth their emotion scores.

Per-frame scores flicker: a blink or a shadow swings a face from "neutral" to "sad" and back.
Each face keeps a track, matched to the next frame's boxes by intersection over union (IoU),
and its scores are an exponential moving average over the frames it was seen in. A track not
seen for ``max_missed`` frames in a row is dropped, so a face that leaves and comes back
starts afresh.
"""

import dataclasses
import itertools

import numpy as np


@dataclasses.dataclass
class Track:
    """One face followed over time: its last box, smoothed scores and frames unseen."""

    track_id: int
    box: tuple
    scores: np.ndarray
    missed: int = 0


def box_iou(box_a, box_b):
    """Intersection over union of two ``(x, y, w, h)`` boxes (0.0 when they do not touch)."""
    ax, ay, aw, ah = box_a
    bx, by, bw, bh = box_b
    overlap_w = min(ax + aw, bx + bw) - max(ax, bx)
    overlap_h = min(ay + ah, by + bh) - max(ay, by)
    if overlap_w <= 0 or overlap_h <= 0:
        return 0.0
    intersection = overlap_w * overlap_h
    return intersection / float(aw * ah + bw * bh - intersection)


def match_boxes(old_boxes, new_boxes, min_iou):
    """Pairs ``(old_index, new_index)``, greedily by highest IoU, each box used at most once."""
    candidates = [(box_iou(old, new), i, j) for (i, old), (j, new)
                  in itertools.product(enumerate(old_boxes), enumerate(new_boxes))]
    candidates.sort(reverse=True)
    pairs, used_old, used_new = [], set(), set()
    for iou, i, j in candidates:
        if iou < min_iou:
            break
        if i in used_old or j in used_new:
            continue
        pairs.append((i, j))
        used_old.add(i)
        used_new.add(j)
    return pairs


class FaceTracker:
    """Tracks faces by IoU and keeps an exponential moving average of each face's scores."""

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
