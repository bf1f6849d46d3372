"""fer.live.drawing: boxes, labels and score charts land on the frame, clipped to it."""

import numpy as np
import pytest

from fer.live.drawing import (EMOTION_COLORS, FALLBACK_COLOR, chart_size, draw_faces, emotion_color, layout_charts,
                         ui_scale)
from fer.labels import EMOTIONS


def face(box, emotion="happy", scores=None):
    scores = scores or {name: (0.7 if name == emotion else 0.05) for name in EMOTIONS}
    return {"box": list(box), "emotion": emotion, "confidence": scores[emotion], "scores": scores}


def blank(width=640, height=480):
    return np.full((height, width, 3), 90, np.uint8)


def changed(before, after):
    """Mask of pixels that differ."""
    return np.any(before != after, axis=2)


def test_box_label_and_chart_are_drawn_around_the_face():
    frame = blank()
    before = frame.copy()
    result = draw_faces(frame, [face((200, 150, 120, 120))])
    assert result is frame
    diff = changed(before, frame)
    assert diff[150, 200:320].all()  # the box's top edge
    assert diff[150:270, 200].all()  # its left edge
    assert not diff[160:260, 210:310].any()  # the face itself stays visible
    assert diff[120:148, 200:260].any()  # the label above the box
    assert diff[150:230, 120:195].any() or diff[150:230, 325:420].any()  # the chart beside it
    assert not diff[400:, :].any() and not diff[:100, :].any()


def test_the_box_has_the_emotion_colour():
    frame = blank()
    draw_faces(frame, [face((100, 100, 100, 100), emotion="angry")])
    assert tuple(frame[150, 100]) == EMOTION_COLORS["angry"]


def test_bars_grow_with_the_scores():
    def chart_pixels(happy_score):
        scores = {name: 0.0 for name in EMOTIONS}
        scores["happy"] = happy_score
        frame = blank()
        draw_faces(frame, [face((100, 150, 120, 120), "happy", scores)])
        return int(np.all(frame == EMOTION_COLORS["happy"], axis=2).sum())

    assert chart_pixels(0.9) > chart_pixels(0.3) > chart_pixels(0.0)


@pytest.mark.parametrize("box", [(0, 0, 60, 60), (580, 420, 60, 60), (600, 0, 40, 40), (0, 440, 40, 40),
                                 (-10, -10, 50, 50)])
def test_faces_at_the_edges_are_clipped_not_crashing(box):
    frame = blank()
    before = frame.copy()
    draw_faces(frame, [face(box)])
    assert changed(before, frame).any()


def test_tiny_and_big_frames():
    draw_faces(blank(96, 72), [face((20, 20, 40, 40))])
    big = blank(1920, 1080)
    before = big.copy()
    draw_faces(big, [face((800, 400, 300, 300))])
    assert ui_scale(big) == 3.0
    assert changed(before, big)[400, 800:1100].all()


def test_several_faces_and_none():
    frame = blank()
    before = frame.copy()
    draw_faces(frame, [])
    assert (frame == before).all()
    draw_faces(frame, [face((40, 100, 100, 100), "sad"), face((400, 100, 100, 100), "surprise")])
    assert tuple(frame[150, 40]) == EMOTION_COLORS["sad"]
    assert tuple(frame[150, 400]) == EMOTION_COLORS["surprise"]


def test_labels_without_a_colour_are_drawn_white():
    assert emotion_color("contempt") == FALLBACK_COLOR
    frame = blank()
    draw_faces(frame, [face((100, 100, 100, 100), "contempt", {"contempt": 0.6, "happy": 0.4})])
    assert tuple(frame[150, 100]) == FALLBACK_COLOR


def rectangles_meet(a, b):
    return min(a[0] + a[2], b[0] + b[2]) > max(a[0], b[0]) and min(a[1] + a[3], b[1] + b[3]) > max(a[1], b[1])


@pytest.mark.parametrize("boxes", [
    [(20, 150, 80, 80), (200, 150, 80, 80)],      # 100 px apart, the left one at the frame's edge
    [(270, 150, 80, 80), (450, 150, 80, 80)],     # 100 px apart, mid-frame
    [(450, 150, 80, 80), (540, 300, 80, 80)],     # at the right edge, one above the other
    [(60, 60, 90, 90), (250, 60, 90, 90), (440, 60, 90, 90), (250, 300, 90, 90)],
])
def test_score_charts_cover_neither_each_other_nor_any_face(boxes):
    width, height = chart_size(EMOTIONS)
    corners = layout_charts((480, 640, 3), boxes, [(width, height)] * len(boxes))
    charts = [(left, top, width, height) for left, top in corners]
    for index, chart in enumerate(charts):
        assert 0 <= chart[0] <= 640 - width and 0 <= chart[1] <= 480 - height
        assert not any(rectangles_meet(chart, other) for other in charts[index + 1:]), charts
        assert not any(rectangles_meet(chart, box) for box in boxes), (chart, boxes)
