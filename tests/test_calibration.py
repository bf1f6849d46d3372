"""fer.training.calibration and ``python -m fer calibrate``: a temperature in the weights, honestly scored."""

import json
import shutil

import keras
import numpy as np
import pytest

from fer.cli import main
from fer.training import calibration
from fer.training.artifacts import load_model
from fer.training.data import load_csv


def softmax(logits):
    exps = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exps / exps.sum(axis=1, keepdims=True)


def test_ece_of_a_known_case():
    # four faces at confidence 0.9 of which two are right, four at 0.6 all right: |0.5-0.9| and |1-0.6|
    probabilities = np.array([[0.9, 0.1]] * 4 + [[0.6, 0.4]] * 4)
    labels = np.array([0, 0, 1, 1, 0, 0, 0, 0])
    assert calibration.expected_calibration_error(probabilities, labels) == pytest.approx(0.4)
    rows = calibration.reliability(probabilities, labels)
    assert [(row["faces"], row["accuracy"]) for row in rows] == [(4, 1.0), (4, 0.5)]


def test_the_fitted_temperature_recovers_the_one_that_made_the_labels():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, (20000, 7))
    labels = np.array([rng.choice(7, p=p) for p in softmax(logits / 2.0)])  # the truth is twice as soft
    overconfident = softmax(logits)
    assert calibration.fit_temperature(overconfident, labels) == pytest.approx(2.0, rel=0.05)
    before = calibration.expected_calibration_error(overconfident, labels)
    after = calibration.expected_calibration_error(calibration.cross_fitted(overconfident, labels), labels)
    assert before > 0.1 and after < 0.02


def test_folding_the_temperature_equals_dividing_the_logits(tiny_model_dir):
    model = load_model(tiny_model_dir).model
    faces = np.random.default_rng(0).uniform(0, 255, (6, 48, 48, 1)).astype(np.float32)
    before = model.predict(faces, verbose=0)
    calibration.fold_temperature(model, 0.5)
    np.testing.assert_allclose(model.predict(faces, verbose=0), calibration.with_temperature(before, 0.5),
                               atol=1e-5)


def test_only_a_softmax_dense_ending_can_be_folded():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Softmax()(keras.layers.Dense(3)(inputs)))
    with pytest.raises(ValueError, match="does not end in a softmax Dense layer"):
        calibration.fold_temperature(model, 2.0)


def test_training_calibrates_and_records_it(tiny_model_dir):
    metadata = json.loads((tiny_model_dir / "metadata.json").read_text())["calibration"]
    metrics = json.loads((tiny_model_dir / "metrics.json").read_text())["calibration"]
    assert metadata["temperature"] == metrics["temperature"] > 0
    assert "reliability_after" in metrics["validation"] and "reliability_after" not in metadata["validation"]
    assert metrics["validation"]["faces"] == 35 and metrics["test"]["faces"] == 35  # the sample's PrivateTest
    report = (tiny_model_dir / "report.md").read_text()
    assert "## Calibration" in report and "(reliability.png)" in report
    assert (tiny_model_dir / "reliability.png").stat().st_size > 0


def test_calibrate_command_changes_confidences_not_predictions(tiny_model_dir, sample_csv, tmp_path, capsys):
    directory = shutil.copytree(tiny_model_dir, tmp_path / "model")
    faces = load_csv(sample_csv).train.images[:40].astype(np.float32)
    before = load_model(directory).model.predict(faces, verbose=0)
    trained_temperature = json.loads((directory / "metadata.json").read_text())["calibration"]["temperature"]
    assert main(["calibrate", "--model", str(directory), "--data", str(sample_csv), "--usage", "Training"]) == 0
    assert "expected calibration error" in capsys.readouterr().out
    after = load_model(directory).model.predict(faces, verbose=0)
    np.testing.assert_array_equal(after.argmax(axis=1), before.argmax(axis=1))
    assert not np.allclose(after, before, atol=1e-4)
    recorded = json.loads((directory / "metadata.json").read_text())["calibration"]
    assert recorded["temperature"] == pytest.approx(trained_temperature * recorded["fitted_temperature"])
    assert recorded["fitted_on"] == {"data": str(sample_csv), "usage": "Training"}
    report = (directory / "report.md").read_text()
    assert report.count("## Calibration") == 1 and report.index("## Calibration") < report.index("## Settings")
    from fer.deployment.bundle import bundled_litert

    assert bundled_litert(directory) is not None  # the shipped LiteRT file follows the new weights


def test_calibrating_on_the_validation_faces_rescores_them_in_metrics_and_report(tiny_model_dir, sample_csv,
                                                                                 tmp_path):
    from fer.training.reporting import _metrics_table

    directory = shutil.copytree(tiny_model_dir, tmp_path / "model")
    before = json.loads((directory / "metrics.json").read_text())
    assert main(["calibrate", "--model", str(directory), "--data", str(sample_csv)]) == 0
    after = json.loads((directory / "metrics.json").read_text())
    assert after["validation"]["accuracy"] == before["validation"]["accuracy"]  # a single pass keeps its answers
    assert after["test"] == before["test"]  # PrivateTest faces were not scored again
    assert after["calibration"]["fitted_on"]["usage"] == "validation"
    report = (directory / "report.md").read_text()
    assert _metrics_table(after) in report
