"""Face boxes ``(x, y, w, h)``: checking boxes a caller gives, how much two overlap, and which
of two lists' boxes go together."""

import itertools
import numbers


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
