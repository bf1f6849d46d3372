"""Find the faces of a video frame by frame, searching the whole frame only now and then.

A search of a whole frame costs several milliseconds, with either detector. In a video the
faces of one frame sit close to those of the frame before, so a :class:`FaceFollower` looks for
them only there (the detector's ``detect_near``) and searches
the whole frame every ``full_search_every`` frames, when there is no face to follow, or at
once when a followed face is lost or two followed faces merge. Every frame gets boxes; the
price is that a face that walks in shows up at the next full search, at most
``full_search_every - 1`` frames late (a quarter of a second at 30 frames/s and the default 8).
"""

import logging

from .boxes import box_iou

log = logging.getLogger(__name__)

DUPLICATE_IOU = 0.5
"""Two followed boxes overlapping this much have found the same face."""


class FaceFollower:
    """Face boxes for consecutive video frames.

    ``search(frame)`` finds the faces of a whole frame and ``search_near(frame, boxes)`` each box
    again near where it was, None where lost (as :meth:`~fer.live.haar.HaarDetector.detect` and
    :meth:`~fer.live.haar.HaarDetector.detect_near` do, and their YuNet counterparts).
    """

    def __init__(self, search, search_near, full_search_every=8):
        """``full_search_every=1`` searches every whole frame (no following)."""
        if full_search_every < 1:
            raise ValueError(f"full_search_every must be 1 or more, got {full_search_every}")
        self.search = search
        self.search_near = search_near
        self.full_search_every = int(full_search_every)
        self.full_searches = 0
        self.boxes = []
        self._frames_since_full_search = 0

    def detect(self, frame):
        """Boxes ``(x, y, w, h)`` of the faces in this frame of the video, left to right."""
        self._frames_since_full_search += 1
        if self.boxes and self._frames_since_full_search < self.full_search_every:
            found = self.search_near(frame, self.boxes)
            if None not in found and not _has_duplicates(found):
                self.boxes = sorted(found)
                return list(self.boxes)
            log.debug("a followed face was lost or merged: searching the whole frame")
        self.boxes = list(self.search(frame))
        self._frames_since_full_search = 0
        self.full_searches += 1
        return list(self.boxes)


def _has_duplicates(boxes):
    return any(box_iou(first, second) > DUPLICATE_IOU
               for index, first in enumerate(boxes) for second in boxes[index + 1:])
