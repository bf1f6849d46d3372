"""The record of a video's emotions: one CSV row per face per frame, and a chart over time.

Rows are written as they come, so a long webcam session stopped with Ctrl-C keeps what it
saw. The chart gives each followed face a lane of its own, coloured by its dominant emotion
frame by frame: averaging several faces together would say nothing about any of them.
"""

import collections
import csv
import logging
import pathlib

from .drawing import emotion_color

log = logging.getLogger(__name__)

FACE_COLUMNS = ("frame", "time_s", "face", "x", "y", "w", "h", "emotion", "confidence")
"""The CSV columns before the one score column per emotion; ``face`` is the face's id."""

MAX_CHARTED_FACES = 12
"""Lanes in the chart: the faces seen in the most frames (the log says how many were left out)."""


def csv_columns(labels):
    """All the CSV columns: :data:`FACE_COLUMNS`, then one score column per label."""
    return FACE_COLUMNS + tuple(labels)


def face_row(frame_index, time_s, face, labels):
    """The CSV row of one face from :meth:`fer.live.recognizer.EmotionRecognizer.analyze`."""
    x, y, w, h = face["box"]
    return ([frame_index, f"{time_s:.3f}", face.get("id", ""), x, y, w, h, face["emotion"],
             f"{face['confidence']:.4f}"] + [f"{face['scores'][label]:.4f}" for label in labels])


class EmotionLog:
    """Collects the faces of each frame; writes them to ``csv_path`` (if given) as they come."""

    def __init__(self, labels, csv_path=None):
        """Open the CSV (if any) and write its header."""
        self.labels = tuple(labels)
        self.timelines = collections.defaultdict(list)
        """Face id -> ``[(time_s, emotion), ...]``, the frames the face was seen in."""
        self.frames = 0
        self.faces = 0
        self.duration = 0.0
        self._file = None
        self._writer = None
        if csv_path is not None:
            self._file = open(csv_path, "w", newline="", encoding="utf-8")
            self._writer = csv.writer(self._file)
            self._writer.writerow(csv_columns(self.labels))

    def add(self, frame_index, time_s, faces):
        """Record one frame's faces (possibly none); a face without an id is told apart by its place."""
        self.frames += 1
        self.faces += len(faces)
        self.duration = max(self.duration, time_s)
        for place, face in enumerate(faces):
            self.timelines[face.get("id", f"#{place}")].append((time_s, face["emotion"]))
        if self._writer is not None:
            self._writer.writerows(face_row(frame_index, time_s, face, self.labels) for face in faces)

    def close(self):
        """Finish the CSV file."""
        if self._file is not None:
            self._file.close()
            self._file = None
            self._writer = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def plot(self, path):
        """Save a PNG of each face's dominant emotion over time; returns the matplotlib figure."""
        return plot_timelines(self.timelines, self.labels, path, self.duration)


def emotion_runs(timeline, frame_gap):
    """``(start, length, emotion)`` bars for one face: consecutive frames of one emotion merged.

    A frame lasts until the next one of the face, or ``frame_gap`` seconds when the face was
    not seen for longer (so a face that left leaves a gap).
    """
    runs = []
    for index, (time_s, emotion) in enumerate(timeline):
        following = timeline[index + 1][0] if index + 1 < len(timeline) else time_s + frame_gap
        end = min(following, time_s + frame_gap)
        if runs and runs[-1][2] == emotion and abs(runs[-1][0] + runs[-1][1] - time_s) < 1e-9:
            start = runs[-1][0]
            runs[-1] = (start, end - start, emotion)
        else:
            runs.append((time_s, end - time_s, emotion))
    return runs


def _frame_gap(timelines):
    """The usual time between frames (the smallest step seen), or 0.1 s without one."""
    steps = [later[0] - earlier[0] for timeline in timelines.values()
             for earlier, later in zip(timeline, timeline[1:]) if later[0] > earlier[0]]
    return min(steps) if steps else 0.1


def plot_timelines(timelines, labels, path, duration=None):
    """Chart ``timelines`` (face id -> ``[(time_s, emotion), ...]``) as one lane per face to a PNG."""
    # The object API draws off-screen without pyplot, so no global backend switch is needed.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    charted = sorted(timelines, key=lambda face: -len(timelines[face]))[:MAX_CHARTED_FACES]
    charted.sort(key=lambda face: timelines[face][0][0])  # lanes in order of appearance
    if len(charted) < len(timelines):
        log.info("chart: the %d faces seen longest of %d", len(charted), len(timelines))
    gap = 2.5 * _frame_gap(timelines)
    figure = Figure(figsize=(10, 1.6 + 0.45 * max(1, len(charted))))
    FigureCanvasAgg(figure)
    axis = figure.add_subplot()
    for lane, face in enumerate(charted):
        runs = emotion_runs(timelines[face], gap)
        axis.broken_barh([(start, length) for start, length, _ in runs], (lane - 0.35, 0.7),
                         facecolors=[_rgb(emotion) for _, _, emotion in runs])
    axis.set_yticks(range(len(charted)), [f"face {face}" for face in charted])
    axis.set_ylim(max(1, len(charted)) - 0.5, -0.5)
    axis.set_xlim(0, max(duration or 0, gap))
    axis.set_xlabel("time (s)")
    axis.grid(axis="x", alpha=0.3)
    axis.set_title("dominant emotion of each face over time" if charted else "no faces seen")
    figure.legend(handles=[Patch(color=_rgb(label), label=label) for label in labels], loc="lower center",
                  ncol=len(labels), fontsize="small", frameon=False)
    figure.tight_layout(rect=(0, 0.1, 1, 1))  # the legend sits below the axes, never over the lanes
    figure.savefig(pathlib.Path(path), dpi=100)
    log.info("wrote emotion chart %s", path)
    return figure


def _rgb(emotion):
    blue, green, red = emotion_color(emotion)
    return (red / 255, green / 255, blue / 255)
