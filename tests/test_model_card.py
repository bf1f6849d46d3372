import json
import shutil

import numpy as np
import pytest

from fer import load_model
from fer.training.data import load_csv
from fer.training.model_card import HEADING, turn_accuracy, turned
from fer.training.reporting import update_model_card


def test_turning_by_a_right_angle_is_an_exact_quarter_turn():
    faces = np.random.default_rng(0).integers(0, 256, (3, 48, 48, 1)).astype(np.uint8)
    np.testing.assert_array_equal(turned(faces, 90), np.rot90(faces, 1, axes=(1, 2)))
    np.testing.assert_array_equal(turned(faces, 0), faces)


def test_every_report_carries_a_model_card_with_measured_limits(tiny_model_dir, sample_csv):
    report = (tiny_model_dir / "report.md").read_text()
    card = report[report.index(HEADING):report.index("\n## ", report.index(HEADING) + 1)]
    assert "must not be used for" in card and "Judging people" in card
    metrics = json.loads((tiny_model_dir / "metrics.json").read_text())
    turns = metrics["model_card"]["turned_accuracy"]
    assert set(turns) == {"0", "15", "30"}
    assert turns["0"] == pytest.approx(metrics["test"]["accuracy"])  # the same single pass
    for name, figures in metrics["test"]["per_class"].items():
        assert f"{name} {figures['recall']:.2f}" in card
    train_labels = load_csv(sample_csv).train.labels
    assert f"{len(train_labels):,} training faces" in card and "happy 16 (14.3%)" in card
    assert f"upright {turns['0']:.1%}" in card


def test_the_card_of_an_existing_model_is_measured_again_in_place(tiny_model_dir, sample_csv, tmp_path):
    directory = tmp_path / "model"
    shutil.copytree(tiny_model_dir, directory)
    report = directory / "report.md"
    report.write_text(report.read_text().replace(HEADING, "## Old card", 1))  # a report from before cards
    before = report.read_text()
    dataset = load_csv(sample_csv)
    update_model_card(directory, load_model(directory).model, dataset)
    after = report.read_text()
    assert after.count(HEADING) == 1 and after.index(HEADING) < after.index("## Settings")
    update_model_card(directory, load_model(directory).model, dataset)
    assert report.read_text() == after  # refreshing replaces the card, never adds a second
    assert len(after) > len(before)
    figures = turn_accuracy(load_model(directory).model, dataset.test)
    metrics = json.loads((directory / "metrics.json").read_text())
    assert metrics["model_card"]["turned_accuracy"]["15"] == pytest.approx(figures[15])
