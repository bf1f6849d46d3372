import json

import cv2
import pytest

from conftest import tiny_config
from fer import cli
from fer.studies.compare import compare, compared_labels, display_names, format_comparison
from fer.training.trainer import train


@pytest.fixture(scope="module")
def second_model_dir(sample_csv, tmp_path_factory):
    """Another real run, on three classes, so the two models differ in labels and figures."""
    output = tmp_path_factory.mktemp("second") / "happy_sad_surprise"
    return train(tiny_config(sample_csv, output, classes=("happy", "sad", "surprise"), seed=1))


def test_figures_come_from_each_metrics_file(tiny_model_dir, second_model_dir):
    summary = compare([tiny_model_dir, second_model_dir], split="test")
    for name, directory in zip(summary, [tiny_model_dir, second_model_dir]):
        written = json.loads((directory / "metrics.json").read_text())["test"]
        assert summary[name]["accuracy"] == written["accuracy"]
        assert summary[name]["macro_f1"] == written["macro_f1"]
        recall = {label: figures["recall"] for label, figures in written["per_class"].items()}
        assert summary[name]["recall"] == recall
    assert list(summary) == ["run", "happy_sad_surprise"]
    assert compared_labels(summary) == ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
    written = json.loads((tiny_model_dir / "metrics.json").read_text())["validation_tta"]
    assert compare([tiny_model_dir], split="validation_tta")["run"]["accuracy"] == written["accuracy"]


def test_the_table_puts_accuracy_first_and_marks_missing_classes(tiny_model_dir, second_model_dir):
    summary = compare([tiny_model_dir, second_model_dir])
    lines = format_comparison(summary, compared_labels(summary)).splitlines()
    assert lines[0].split()[:3] == ["model", "accuracy", "macro-F1"]
    second = lines[2].split()
    assert second[0] == "happy_sad_surprise" and float(second[1]) == pytest.approx(
        summary["happy_sad_surprise"]["accuracy"], abs=5e-5)
    assert second[4] == "-"  # no angry class in that model


def test_the_command_prints_and_plots(tiny_model_dir, second_model_dir, tmp_path, capsys):
    output = tmp_path / "compare.png"
    assert cli.main(["compare", str(tiny_model_dir), str(second_model_dir), "--output", str(output)]) == 0
    assert "happy_sad_surprise" in capsys.readouterr().out
    assert cv2.imread(str(output)).shape[1] > 600


def test_a_directory_without_metrics_is_refused(tiny_model_dir, tmp_path, capsys):
    assert cli.main(["compare", str(tiny_model_dir), str(tmp_path), "--output", str(tmp_path / "c.png")]) == 2
    assert "no metrics.json" in capsys.readouterr().err
    (tmp_path / "metrics.json").write_text(json.dumps({"test": {}}))
    with pytest.raises(ValueError, match="no 'test_tta' figures; it has test"):
        compare([tmp_path], split="test_tta")


def test_directories_with_the_same_name_are_told_apart(tmp_path):
    names = display_names([tmp_path / "a" / "run", tmp_path / "b" / "run", tmp_path / "c"])
    assert names == [str(tmp_path / "a" / "run"), str(tmp_path / "b" / "run"), "c"]
