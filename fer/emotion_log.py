"""The record of a video's emotions: one CSV row per face per frame, and a chart over time.

Rows are written as they come, so a long webcam session stopped with Ctrl-C keeps what it
saw. For the chart only the mean score of each emotion per frame is kept in memory.
"""

import csv
import logging
import pathlib

import numpy as np

from .drawing import emotion_color

log = logging.getLogger(__name__)

FACE_COLUMNS = ("frame", "time_s", "x", "y", "w", "h", "emotion", "confidence")
"""The CSV columns before the one score column per emotion."""


def csv_columns(labels):
    """All the CSV columns: :data:`FACE_COLUMNS`, then one score column per label."""
    return FACE_COLUMNS + tuple(labels)


def face_row(frame_index, time_s, face, labels):
    """The CSV row of one face from :meth:`fer.recognizer.EmotionRecognizer.analyze`."""
    x, y, w, h = face["box"]
    return ([frame_index, f"{time_s:.3f}", x, y, w, h, face["emotion"], f"{face['confidence']:.4f}"]
            + [f"{face['scores'][label]:.4f}" for label in labels])


class EmotionLog:
    """Collects the faces of each frame; writes them to ``csv_path`` (if given) as they come."""

    def __init__(self, labels, csv_path=None):
        """Open the CSV (if any) and write its header."""
        self.labels = tuple(labels)
        self.times = []
        self.mean_scores = []
        self.frames = 0
        self.faces = 0
        self._file = None
        self._writer = None
        if csv_path is not None:
            self._file = open(csv_path, "w", newline="", encoding="utf-8")
            self._writer = csv.writer(self._file)
            self._writer.writerow(csv_columns(self.labels))

    def add(self, frame_index, time_s, faces):
        """Record one frame's faces (possibly none)."""
        self.frames += 1
        self.faces += len(faces)
        self.times.append(time_s)
        if faces:
            scores = np.array([[face["scores"][label] for label in self.labels] for face in faces])
            self.mean_scores.append(scores.mean(axis=0))
        else:
            self.mean_scores.append(np.full(len(self.labels), np.nan))
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
        """Save a PNG of each emotion's mean score over time (gaps where no face was seen)."""
        plot_emotions(np.array(self.times, np.float64), np.array(self.mean_scores, np.float64).reshape(
            len(self.times), len(self.labels)), self.labels, path)


def plot_emotions(times, mean_scores, labels, path):
    """Plot ``mean_scores`` (frames x labels) against ``times`` in seconds to a PNG file."""
    # The object API draws off-screen without pyplot, so no global backend switch is needed.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 4))
    FigureCanvasAgg(figure)
    axis = figure.add_subplot()
    for index, label in enumerate(labels):
        blue, green, red = emotion_color(label)
        axis.plot(times, mean_scores[:, index], label=label, color=(red / 255, green / 255, blue / 255),
                  linewidth=1.5)
    axis.set_xlabel("time (s)")
    axis.set_ylabel("mean score of the faces")
    axis.set_ylim(0, 1)
    axis.grid(alpha=0.3)
    axis.legend(loc="upper right", ncol=len(labels), fontsize="small")
    axis.set_title("emotions over time")
    figure.tight_layout()
    figure.savefig(pathlib.Path(path), dpi=100)
    log.info("wrote emotion chart %s", path)
