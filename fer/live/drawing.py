"""Draw faces on a frame: a box, a "happy 91%" label and a small bar chart of all the scores;
and status pictures, a message on a dark frame, for a stream that has no video to show.

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
STATUS_SIZE = (640, 480)
"""Width and height of status pictures (error and waiting frames)."""

STATUS_FONT, STATUS_FONT_SCALE, STATUS_THICKNESS = cv2.FONT_HERSHEY_SIMPLEX, 0.75, 2


def emotion_color(emotion):
    """The BGR colour of an emotion (white for a name without one)."""
    return EMOTION_COLORS.get(emotion, FALLBACK_COLOR)


def ui_scale(frame):
    """How much bigger than at 640 pixels across to draw on this frame (steps of 0.25)."""
    scale = frame.shape[1] / BASE_WIDTH
    return min(3.0, max(0.5, round(scale * 4) / 4))


def draw_faces(frame, faces):
    """Draw every face of :meth:`fer.live.recognizer.EmotionRecognizer.analyze` on ``frame``; returns it.

    The score charts are laid out together, so that no chart covers another or another face.
    """
    scale = ui_scale(frame)
    boxes = [tuple(int(value) for value in face["box"]) for face in faces]
    sizes = [chart_size(tuple(face["scores"]), scale) for face in faces]
    corners = layout_charts(frame.shape, boxes, sizes, scale)
    for face, box, corner in zip(faces, boxes, corners):
        color = emotion_color(face["emotion"])
        cv2.rectangle(frame, box[:2], (box[0] + box[2], box[1] + box[3]), color, max(1, round(2 * scale)))
        draw_label(frame, f"{face['emotion']} {face['confidence']:.0%}", box[:2], color, scale)
        draw_score_chart(frame, face["scores"], corner, scale)
    return frame


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


def draw_score_chart(frame, scores, corner, scale=1.0):
    """A bar per emotion in a panel whose top-left corner is ``corner``, clipped to the frame."""
    labels = tuple(scores)
    left, top = corner
    _paste(frame, _chart_panel(labels, scale), left, top)
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


def chart_size(labels, scale=1.0):
    """``(width, height)`` in pixels of the score chart for ``labels``."""
    return _chart_panel(tuple(labels), scale).shape[1::-1]


def layout_charts(frame_shape, boxes, sizes, scale=1.0):
    """Top-left corners for the charts of faces at ``boxes``, charts of ``(width, height)`` ``sizes``.

    Each chart goes where it covers the least of the faces (its own too, with their labels)
    and of the charts placed before it, trying in turn: beside its face on the side towards the nearer
    frame edge, on the other side, then below and above the face, each slid along the face's
    edge. Charts that cannot all fit without overlap (many faces in a small frame) overlap
    as little as the frame allows.
    """
    frame_h, frame_w = frame_shape[:2]
    gap = round(CHART_GAP * scale)
    label_h = round(22 * scale)
    taken = [(x, y - label_h, w, h + label_h) for x, y, w, h in boxes]
    corners = []
    for box, (panel_w, panel_h) in zip(boxes, sizes):
        candidates = [_inside(frame_w, frame_h, panel_w, panel_h, left, top)
                      for left, top in _chart_candidates(box, panel_w, panel_h, gap, frame_w, label_h)]
        corner = min(candidates, key=lambda corner: sum(
            _overlap((*corner, panel_w, panel_h), other) for other in taken))
        corners.append(corner)
        taken.append((*corner, panel_w, panel_h))
    return corners


def _chart_candidates(box, panel_w, panel_h, gap, frame_w, label_h):
    """Places for a chart around ``box``, best first (see :func:`layout_charts`)."""
    x, y, w, h = box
    left_side, right_side = x - gap - panel_w, x + w + gap
    sides = (left_side, right_side) if x + w / 2 < frame_w / 2 else (right_side, left_side)
    slides = [0, panel_h // 2, -panel_h // 2, panel_h, -panel_h]
    places = [(left, y + slide) for left in sides for slide in slides]
    below, above = y + h + gap, y - label_h - gap - panel_h
    places += [(x + slide, top) for top in (below, above) for slide in (0, -panel_w // 2, w - panel_w // 2)]
    return places


def _inside(frame_w, frame_h, panel_w, panel_h, left, top):
    """The corner moved so that the chart lies within the frame (as far as it fits)."""
    return min(max(0, left), max(0, frame_w - panel_w)), min(max(0, top), max(0, frame_h - panel_h))


def _overlap(a, b):
    """Area shared by two ``(x, y, w, h)`` rectangles."""
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(0, width) * max(0, height)


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


def status_image(message, size=STATUS_SIZE):
    """A dark BGR picture with ``message`` written across it, wrapped to fit."""
    width, height = size
    image = np.full((height, width, 3), (40, 32, 28), np.uint8)
    cv2.rectangle(image, (0, 0), (width - 1, 6), (60, 60, 220), -1)
    text = message.replace("\u2014", "-").replace("\u2026", "...").encode("ascii", "replace").decode()
    margin, line_height = 28, 34
    lines = [line for paragraph in text.splitlines() for line in _wrap(paragraph, width - 2 * margin)]
    top = max(40, (height - line_height * len(lines)) // 2)
    for index, line in enumerate(lines):
        cv2.putText(image, line, (margin, top + index * line_height), STATUS_FONT, STATUS_FONT_SCALE,
                    (235, 235, 235), STATUS_THICKNESS, cv2.LINE_AA)
    return image


def _text_width(text):
    return cv2.getTextSize(text, STATUS_FONT, STATUS_FONT_SCALE, STATUS_THICKNESS)[0][0]


def _wrap(text, max_width):
    """Split ``text`` into lines at most ``max_width`` pixels wide, word by word."""
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if _text_width(candidate) <= max_width:
            line = candidate
            continue
        if line:
            lines.append(line)
        while _text_width(word) > max_width:  # a path or URL wider than a line: cut it
            cut = max(index for index in range(1, len(word) + 1) if _text_width(word[:index]) <= max_width)
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    return lines + [line] if line else lines
