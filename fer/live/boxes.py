"""Face boxes ``(x, y, w, h)``: the eyes a detector found with them, checking boxes a caller
gives, mapping a shrunk frame's boxes back, how much two overlap, and which of two lists' boxes
go together."""

import itertools
import numbers


class FaceBox(tuple):
    """An ``(x, y, w, h)`` tuple of ints that also carries ``eyes`` and ``angle``, where the
    detector found them.

    ``eyes`` is ``((x, y), (x, y))``: the face's right eye (on the picture's left) then its left
    eye, in frame pixels; ``angle`` the degrees the face is turned from upright, clockwise as
    seen (what :func:`fer.live.alignment.face_crop` turns back). Both are None for a detector
    without landmarks. A FaceBox sorts, unpacks and compares as the plain tuple it is.
    """

    def __new__(cls, box, eyes=None, angle=None):
        face_box = super().__new__(cls, (int(value) for value in box))
        face_box.eyes = eyes
        face_box.angle = angle
        return face_box

    def __repr__(self):
        return f"FaceBox({tuple(self)}, eyes={self.eyes}, angle={self.angle})"


def detection_sizes(min_size, detect_width):
    """A detector's ``min_size`` and ``detect_width`` checked: ``(int, int or None)``, or ValueError."""
    if min_size < 1:
        raise ValueError(f"min_size must be at least 1 pixel, got {min_size}")
    if detect_width is not None and detect_width < 32:
        raise ValueError(f"detect_width must be at least 32 pixels (or None), got {detect_width}")
    return int(min_size), None if detect_width is None else int(detect_width)


def shrink_scale(width, detect_width):
    """The factor that shrinks a ``width``-pixel frame to ``detect_width`` (1.0: left as it is)."""
    if detect_width is None or width <= detect_width:
        return 1.0
    return detect_width / width


def to_frame_box(box, scale, width, height, offset=(0, 0)):
    """A box found on a frame shrunk by ``scale`` (and cut at ``offset``), in full-frame pixels,
    clipped to the ``width`` x ``height`` frame: ``(x, y, w, h)`` ints."""
    x, y, w, h = (float(value) / scale for value in box)
    x, y = x + offset[0], y + offset[1]
    left, top = max(0, round(x)), max(0, round(y))
    right, bottom = min(width, round(x + w)), min(height, round(y + h))
    return (int(left), int(top), int(right - left), int(bottom - top))


def best_overlap(candidates, box):
    """The candidate overlapping ``box`` most; None when there is none."""
    return max(candidates, key=lambda candidate: box_iou(candidate, box), default=None)


class BoxError(ValueError):
    """Boxes a caller gave that cannot be used; the message says which and why."""


def checked_boxes(boxes, width, height):
    """``boxes`` (``[[x, y, w, h], ...]``) as integer boxes cut to a ``width`` x ``height`` picture.

    Raises :class:`BoxError` naming the first bad box: not four numbers, an empty size, or
    wholly outside the picture. A box partly outside is cut to the picture.
    """
    if isinstance(boxes, (str, bytes)) or not isinstance(boxes, (list, tuple)):
        raise BoxError("boxes must be a list of [x, y, w, h] lists")
    cut = []
    for index, box in enumerate(boxes):
        if (not isinstance(box, (list, tuple)) or len(box) != 4
                or not all(isinstance(value, numbers.Real) and not isinstance(value, bool) for value in box)):
            raise BoxError(f"box {index} ({box!r}) is not a list of four numbers x, y, w, h")
        x, y, w, h = (int(round(value)) for value in box)
        if w <= 0 or h <= 0:
            raise BoxError(f"box {index} {[x, y, w, h]} has an empty size: w and h must be at least 1")
        left, top, right, bottom = max(x, 0), max(y, 0), min(x + w, width), min(y + h, height)
        if right <= left or bottom <= top:
            raise BoxError(f"box {index} {[x, y, w, h]} lies wholly outside the {width} x {height} picture")
        cut.append((left, top, right - left, bottom - top))
    return cut


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
