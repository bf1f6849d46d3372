"""The one task of an archive analysis: an input and the options in, a finished table out.

:func:`analyze_input` reads a video frame by frame (or one picture), analyses it as
``camera.py --csv`` does, and writes the rows under a temporary name as they come, so memory
stays flat however long the video; only a whole table is renamed to its own name. It returns
the input's summary row, and an unreadable input becomes a row with ``status`` ``error`` and
the reason. The engines (:mod:`.engines`) only decide where this function runs.
"""

import contextlib
import csv
import dataclasses
import functools
import logging
import pathlib
import time

import cv2

from ..files import written_whole
from ..live.emotion_log import csv_columns, face_row
from ..live.sources import SourceError, open_video_file
from ..training.data import DataError, read_image

log = logging.getLogger(__name__)

PARQUET_ROWS_PER_GROUP = 20_000
"""Rows held before a parquet row group is written: memory stays bounded for long videos."""


class Interrupted(Exception):
    """The analysis of an input was stopped before its end (Ctrl+C); its table was not kept."""


@dataclasses.dataclass(frozen=True)
class AnalysisOptions:
    """How every input is analysed; the same options give the same tables."""

    model: str
    every: int = 1
    """Analyse every Nth frame (1: all)."""
    smoothing: bool = True
    full_search_every: int = 8
    detect_width: int = 320
    detector: str = "haar"
    align: bool = True
    """The face detector's name, and whether faces are set upright by their eyes."""
    int8: bool = True
    """Score with the model directory's int8 LiteRT file where it passed its check."""
    table_format: str = "csv"


@dataclasses.dataclass(frozen=True)
class Job:
    """One input to analyse into ``table`` with ``options``."""

    name: str
    path: pathlib.Path
    table: pathlib.Path
    is_picture: bool
    options: AnalysisOptions


def summary_columns(labels):
    """The columns of ``summary.csv``: the input, its fate, its counts, each emotion's share of its faces."""
    return ("input", "status", "error", "frames", "faces", "seconds", "analysis_seconds") + tuple(labels)


def analyze_input(job, progress=None, should_stop=None):
    """Analyse ``job``'s input into its table; returns the summary row as a dict.

    ``progress(frames)`` is told of analysed frames now and then; ``should_stop()`` is asked
    between frames, and when it says yes the table is dropped and :class:`Interrupted` raised.
    """
    options = job.options
    recognizer = recognizer_for(options.model, options.detector, options.detect_width, options.align,
                                options.int8)
    started = time.perf_counter()  # after the model loads: once per process, not this input's cost
    labels = recognizer.labels
    row = {"input": job.name, "status": "ok", "error": ""}
    try:
        job.table.parent.mkdir(parents=True, exist_ok=True)
        with written_whole(job.table) as partial, _table_writer(partial, labels, job.options.table_format) as table:
            counts = _analyze_frames(job, recognizer, table, progress or (lambda frames: None),
                                     should_stop or (lambda: False))
    except (SourceError, DataError, OSError, cv2.error) as error:
        row.update(status="error", error=_reason(error, job.path))
        counts = {"frames": 0, "faces": 0, "seconds": 0.0, "emotions": {}}
    row.update(frames=counts["frames"], faces=counts["faces"], seconds=round(counts["seconds"], 3),
               analysis_seconds=round(time.perf_counter() - started, 3))
    for label in labels:
        row[label] = round(counts["emotions"].get(label, 0) / counts["faces"], 4) if counts["faces"] else ""
    return row


def _analyze_frames(job, recognizer, table, progress, should_stop):
    """Every analysed frame's faces into ``table``; returns the counts of the summary."""
    from ..live.video import VideoAnalysis

    options = job.options
    video = VideoAnalysis(recognizer, smoothing=options.smoothing, full_search_every=options.full_search_every)
    counts = {"frames": 0, "faces": 0, "seconds": 0.0, "emotions": {}}
    reported = 0
    for index, time_s, frame in _frames(job):
        if should_stop():
            raise Interrupted(job.name)
        faces = video.analyze(frame)
        table.add(index, time_s, faces)
        counts["frames"] += 1
        counts["faces"] += len(faces)
        counts["seconds"] = time_s
        for face in faces:
            counts["emotions"][face["emotion"]] = counts["emotions"].get(face["emotion"], 0) + 1
        if counts["frames"] - reported >= 25:
            progress(counts["frames"] - reported)
            reported = counts["frames"]
    progress(counts["frames"] - reported)
    return counts


def _frames(job):
    """``(index, time_s, frame)`` of every ``every``-th frame of the input (a picture: its one frame)."""
    if job.is_picture:
        yield 0, 0.0, read_image(job.path)
        return
    source = open_video_file(job.path, loop=False)
    try:
        index = 0
        while True:
            ok, frame = source.read()
            if not ok:
                return
            yield index, index / source.fps, frame
            for _ in range(job.options.every - 1):  # frames skipped are only grabbed: no colour conversion, no analysis
                index += 1
                if not source.capture.grab():
                    return
            index += 1
    finally:
        source.release()


def _reason(error, path):
    """A one-line reason for a failed input, naming it once."""
    text = str(error).strip() or type(error).__name__
    if isinstance(error, cv2.error):
        text = f"OpenCV could not decode it ({text.splitlines()[-1]})"
    return text if str(path) in text else f"{path}: {text}"


@functools.lru_cache(maxsize=2)
def recognizer_for(model, detector, detect_width, align, int8=True):
    """The recognizer of ``model`` with that detector at ``detect_width``, loaded once per process."""
    from ..live.detectors import make_detector
    from ..live.recognizer import EmotionRecognizer

    return EmotionRecognizer(model, detector=make_detector(detector, detect_width), align=align, int8=int8)


@contextlib.contextmanager
def _table_writer(path, labels, table_format):
    """A writer of face rows to ``path`` in ``table_format``, closed (flushed) at the end of the block."""
    writer = CsvTable(path, labels) if table_format == "csv" else ParquetTable(path, labels)
    try:
        yield writer
    finally:
        writer.close()


class CsvTable:
    """Face rows as the CSV of ``camera.py --csv``, written as they come."""

    def __init__(self, path, labels):
        self.labels = labels
        self._file = open(path, "w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._file)
        self._writer.writerow(csv_columns(labels))

    def add(self, frame_index, time_s, faces):
        """The rows of one frame's faces."""
        self._writer.writerows(face_row(frame_index, time_s, face, self.labels) for face in faces)

    def close(self):
        self._file.close()


class ParquetTable:
    """Face rows as a parquet file (pyarrow) with typed columns, written a row group at a time."""

    def __init__(self, path, labels):
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.labels = labels
        self._pa = pa
        fields = [("frame", pa.int64()), ("time_s", pa.float64()), ("face", pa.int64()), ("x", pa.int32()),
                  ("y", pa.int32()), ("w", pa.int32()), ("h", pa.int32()), ("emotion", pa.string()),
                  ("confidence", pa.float32())] + [(label, pa.float32()) for label in labels]
        self.schema = pa.schema(fields)
        self._writer = pq.ParquetWriter(path, self.schema)
        self._rows = []
        self._groups = 0

    def add(self, frame_index, time_s, faces):
        """The rows of one frame's faces (written once a row group is full)."""
        for face in faces:
            x, y, w, h = face["box"]
            self._rows.append([frame_index, round(time_s, 3), face.get("id"), x, y, w, h, face["emotion"],
                               face["confidence"]] + [face["scores"][label] for label in self.labels])
        if len(self._rows) >= PARQUET_ROWS_PER_GROUP:
            self._flush()

    def _flush(self):
        columns = list(zip(*self._rows)) if self._rows else [[] for _ in self.schema]
        self._writer.write_table(self._pa.Table.from_arrays(
            [self._pa.array(column, type=field.type) for column, field in zip(columns, self.schema)],
            schema=self.schema))
        self._rows = []
        self._groups += 1

    def close(self):
        if self._rows or not self._groups:  # a table without faces still gets its columns
            self._flush()
        self._writer.close()
