"""fer.live.emotion_log: CSV rows per face per frame, and a chart with a lane per face."""

import csv

import cv2

from fer.live.emotion_log import EmotionLog, csv_columns, emotion_runs, face_row

LABELS = ("happy", "sad")


def face(box, happy, face_id=None):
    scores = {"happy": happy, "sad": 1.0 - happy}
    emotion = max(scores, key=scores.get)
    result = {"box": list(box), "emotion": emotion, "confidence": scores[emotion], "scores": scores}
    if face_id is not None:
        result["id"] = face_id
    return result


def test_face_row_follows_the_columns():
    row = face_row(7, 0.25, face((1, 2, 30, 40), 0.8, face_id=3), LABELS)
    assert len(row) == len(csv_columns(LABELS))
    assert row == [7, "0.250", 3, 1, 2, 30, 40, "happy", "0.8000", "0.8000", "0.2000"]


def test_log_writes_one_row_per_face_with_its_id_and_counts_frames(tmp_path):
    path = tmp_path / "emotions.csv"
    with EmotionLog(LABELS, path) as log:
        log.add(0, 0.0, [face((0, 0, 10, 10), 0.9, 0), face((50, 0, 10, 10), 0.2, 1)])
        log.add(1, 0.1, [])
        log.add(2, 0.2, [face((0, 0, 10, 10), 0.6, 0)])
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == csv_columns(LABELS)
    assert [(row[0], row[2]) for row in rows[1:]] == [("0", "0"), ("0", "1"), ("2", "0")]
    assert (log.frames, log.faces) == (3, 3)
    assert log.timelines == {0: [(0.0, "happy"), (0.2, "happy")], 1: [(0.0, "sad")]}


def test_runs_merge_frames_of_one_emotion_and_leave_gaps_where_the_face_was_away():
    timeline = [(0.0, "happy"), (0.1, "happy"), (0.2, "sad"), (1.0, "sad")]
    runs = emotion_runs(timeline, frame_gap=0.25)
    assert [(round(start, 3), round(length, 3), emotion) for start, length, emotion in runs] == [
        (0.0, 0.2, "happy"), (0.2, 0.25, "sad"), (1.0, 0.25, "sad")]


def test_the_chart_gives_each_face_a_lane_and_keeps_the_legend_off_them(tmp_path):
    log = EmotionLog(LABELS)
    for index in range(40):
        log.add(index, index / 10, [face((0, 0, 10, 10), 0.9, 0), face((50, 0, 10, 10), 0.1 + index / 50, 1)])
    figure = log.plot(tmp_path / "chart.png")
    axis = figure.axes[0]
    assert [label.get_text() for label in axis.get_yticklabels()] == ["face 0", "face 1"]
    lanes = [collection.get_facecolors() for collection in axis.collections]
    assert len(lanes) == 2 and len(lanes[0]) == 1, "a face of one emotion throughout is one bar"
    assert len(lanes[1]) == 2, "face 1 turns from sad to happy"
    renderer = figure.canvas.get_renderer()
    legend = figure.legends[0].get_window_extent(renderer)
    assert not legend.overlaps(axis.get_window_extent(renderer)), "the legend covers the chart"
    chart = cv2.imread(str(tmp_path / "chart.png"))
    assert chart is not None and chart.std() > 0


def test_a_chart_of_no_faces_is_still_written(tmp_path):
    log = EmotionLog(LABELS)
    log.add(0, 0.0, [])
    log.plot(tmp_path / "empty.png")
    assert (tmp_path / "empty.png").stat().st_size > 0
