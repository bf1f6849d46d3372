"""fer.emotion_log: CSV rows per face per frame, and the chart over time."""

import csv

import cv2
import numpy as np

from fer.emotion_log import EmotionLog, csv_columns, face_row, plot_emotions

LABELS = ("happy", "sad")


def face(box, happy):
    scores = {"happy": happy, "sad": 1.0 - happy}
    emotion = max(scores, key=scores.get)
    return {"box": list(box), "emotion": emotion, "confidence": scores[emotion], "scores": scores}


def test_face_row_follows_the_columns():
    row = face_row(7, 0.25, face((1, 2, 30, 40), 0.8), LABELS)
    assert len(row) == len(csv_columns(LABELS))
    assert row == [7, "0.250", 1, 2, 30, 40, "happy", "0.8000", "0.8000", "0.2000"]


def test_log_writes_one_row_per_face_and_counts_frames(tmp_path):
    path = tmp_path / "emotions.csv"
    with EmotionLog(LABELS, path) as log:
        log.add(0, 0.0, [face((0, 0, 10, 10), 0.9), face((50, 0, 10, 10), 0.2)])
        log.add(1, 0.1, [])
        log.add(2, 0.2, [face((0, 0, 10, 10), 0.6)])
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == csv_columns(LABELS)
    assert [row[0] for row in rows[1:]] == ["0", "0", "2"]
    assert (log.frames, log.faces) == (3, 3)
    np.testing.assert_allclose(log.mean_scores[0], [0.55, 0.45])
    assert np.isnan(log.mean_scores[1]).all()


def test_log_without_csv_still_charts(tmp_path):
    log = EmotionLog(LABELS)
    for index in range(20):
        log.add(index, index / 10, [face((0, 0, 10, 10), index / 20)] if index % 5 else [])
    log.plot(tmp_path / "chart.png")
    chart = cv2.imread(str(tmp_path / "chart.png"))
    assert chart is not None and chart.std() > 0


def test_plot_emotions_of_no_frames(tmp_path):
    plot_emotions(np.zeros(0), np.zeros((0, 2)), LABELS, tmp_path / "empty.png")
    assert (tmp_path / "empty.png").stat().st_size > 0
