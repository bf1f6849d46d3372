"""Face boxes ``(x, y, w, h)``: how much two overlap, and which of two lists' boxes go together."""

import itertools


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
