"""Draw faces on a frame: a box, a "happy 91%" label and a small bar chart of all the scores.

Drawing happens in place on the BGR frame. The parts of the chart that never change (its
dark panel and the emotion names) are rendered once per label set and size and copied in,
so a frame costs a box, a label and one filled rectangle per emotion.
"""

import functools

import cv2
import numpy as np

EMOTION_COLORS = {
    "angry": (40, 40, 220),
    "disgust": (40, 140, 40),
    "fear": (160, 60, 150),
    "happy": (0, 210, 255),
    "sad": (200, 110, 30),
    "surprise": (0, 140, 255),
    "neutral": (190, 190, 190),
}
"""BGR colour of each emotion's box, label and bar."""

FALLBACK_COLOR = (255, 255, 255)
FONT = cv2.FONT_HERSHEY_SIMPLEX
BASE_WIDTH = 640
"""Frame width at which the sizes below are drawn 1:1; other widths scale them."""

LABEL_FONT_SCALE = 0.55
CHART_FONT_SCALE = 0.35
CHART_ROW = 11
CHART_NAME_WIDTH = 26
CHART_BAR_WIDTH = 56
CHART_PAD = 3
CHART_GAP = 6
PANEL_COLOR = (32, 32, 32)


def emotion_color(emotion):
    """The BGR colour of an emotion (white for a name without one)."""
    return EMOTION_COLORS.get(emotion, FALLBACK_COLOR)


def ui_scale(frame):
    """How much bigger than at 640 pixels across to draw on this frame (steps of 0.25)."""
    scale = frame.shape[1] / BASE_WIDTH
    return min(3.0, max(0.5, round(scale * 4) / 4))


def draw_faces(frame, faces):
    """Draw every face of :meth:`fer.recognizer.EmotionRecognizer.analyze` on ``frame``; returns it."""
    scale = ui_scale(frame)
    for face in faces:
        draw_face(frame, face, scale)
    return frame


def draw_face(frame, face, scale=1.0):
    """Draw one face's box, label with confidence and score chart on ``frame`` in place."""
    x, y, w, h = (int(value) for value in face["box"])
    color = emotion_color(face["emotion"])
    thickness = max(1, round(2 * scale))
    cv2.rectangle(frame, (x, y), (x + w, y + h), color, thickness)
    draw_label(frame, f"{face['emotion']} {face['confidence']:.0%}", (x, y), color, scale)
    draw_score_chart(frame, face["scores"], (x, y, w, h), scale)


def draw_label(frame, text, corner, color, scale=1.0):
    """Write ``text`` on a filled ``color`` background above ``corner`` (inside, at the top edge)."""
    font_scale = LABEL_FONT_SCALE * scale
    thickness = max(1, round(scale))
    (text_w, text_h), baseline = _text_size(text, font_scale, thickness)
    pad = max(2, round(3 * scale))
    x, y = corner
    top = y - text_h - baseline - 2 * pad
    if top < 0:  # no room above the box: put the label just inside it
        top = y
    cv2.rectangle(frame, (x, top), (x + text_w + 2 * pad, top + text_h + baseline + 2 * pad), color, cv2.FILLED)
    cv2.putText(frame, text, (x + pad, top + pad + text_h), FONT, font_scale, _text_color(color), thickness,
                cv2.LINE_AA)


def draw_score_chart(frame, scores, box, scale=1.0):
    """A bar per emotion beside the box (on the side nearer the frame's edge first), clipped to the frame."""
    labels = tuple(scores)
    panel = _chart_panel(labels, scale)
    panel_h, panel_w = panel.shape[:2]
    left, top = _chart_corner(frame.shape, box, panel_w, panel_h, scale)
    _paste(frame, panel, left, top)
    row = round(CHART_ROW * scale)
    pad = round(CHART_PAD * scale)
    bar_left = left + pad + round(CHART_NAME_WIDTH * scale)
    bar_width = round(CHART_BAR_WIDTH * scale)
    for index, emotion in enumerate(labels):
        length = round(float(scores[emotion]) * bar_width)
        if length <= 0:
            continue
        bar_top = top + pad + index * row + 1
        cv2.rectangle(frame, (bar_left, bar_top), (bar_left + length, bar_top + row - 3),
                      emotion_color(emotion), cv2.FILLED)


def _chart_corner(frame_shape, box, panel_w, panel_h, scale):
    """Top-left corner for the chart: beside the box on its outer side, else its inner side, else below.

    The outer side (towards the nearer frame edge) keeps the charts of faces side by side
    from covering each other.
    """
    frame_h, frame_w = frame_shape[:2]
    x, y, w, h = box
    gap = round(CHART_GAP * scale)
    top = min(max(0, y), max(0, frame_h - panel_h))
    left_side, right_side = x - gap - panel_w, x + w + gap
    sides = (left_side, right_side) if x + w / 2 < frame_w / 2 else (right_side, left_side)
    for left in sides:
        if 0 <= left <= frame_w - panel_w:
            return left, top
    return min(max(0, x), max(0, frame_w - panel_w)), y + h + gap


def _paste(frame, image, left, top):
    """Copy ``image`` into ``frame`` with its top-left corner at ``(left, top)``, clipped."""
    frame_h, frame_w = frame.shape[:2]
    image_h, image_w = image.shape[:2]
    x0, y0 = max(0, left), max(0, top)
    x1, y1 = min(frame_w, left + image_w), min(frame_h, top + image_h)
    if x0 >= x1 or y0 >= y1:
        return
    frame[y0:y1, x0:x1] = image[y0 - top:y1 - top, x0 - left:x1 - left]


@functools.lru_cache(maxsize=32)
def _chart_panel(labels, scale):
    """The chart's unchanging part, made once per label set and size: panel and names."""
    row = round(CHART_ROW * scale)
    pad = round(CHART_PAD * scale)
    width = round((CHART_NAME_WIDTH + CHART_BAR_WIDTH) * scale) + 2 * pad
    height = row * len(labels) + 2 * pad
    panel = np.empty((height, width, 3), np.uint8)
    panel[:] = PANEL_COLOR
    font_scale = CHART_FONT_SCALE * scale
    for index, emotion in enumerate(labels):
        baseline_y = pad + index * row + row - 2
        cv2.putText(panel, emotion[:3], (pad, baseline_y), FONT, font_scale, (230, 230, 230), 1, cv2.LINE_AA)
    panel.flags.writeable = False
    return panel


@functools.lru_cache(maxsize=256)
def _text_size(text, font_scale, thickness):
    return cv2.getTextSize(text, FONT, font_scale, thickness)


def _text_color(background):
    """Black on light backgrounds, white on dark ones."""
    blue, green, red = background
    return (0, 0, 0) if 0.114 * blue + 0.587 * green + 0.299 * red > 140 else (255, 255, 255)
