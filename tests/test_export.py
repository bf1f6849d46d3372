"""fer.deployment and ``python -m fer export``: every format scores as Keras does, and says so."""

import json
import shutil

import numpy as np
import pytest

from conftest import with_distant_moving_statistics
from fer.cli import main
from fer.deployment import parity
from fer.deployment.bundle import bundled_litert
from fer.deployment.formats import runner, write
from fer.locations import LITERT_FILE, METADATA_FILE, WEIGHTS_FILE
from fer.training.artifacts import load_model
from fer.training.data import load_csv
from fer.training.models import build_model


def cropping_model(crop_layer):
    """A small VGG that crops its centre 40 x 40 with ``crop_layer``, as saved by older or newer builders."""
    import keras

    model = build_model("vgg", widths=(4, 8), crop=40)
    if crop_layer == "CenterCrop":
        config = json.loads(model.to_json())
        crop = next(layer for layer in config["config"]["layers"] if layer["config"]["name"] == "crop")
        crop["class_name"], crop["config"] = "CenterCrop", {"name": "crop", "height": 40, "width": 40}
        older = keras.models.model_from_json(json.dumps(config))
        older.set_weights(model.get_weights())
        model = older
    assert type(model.get_layer("crop")).__name__ == crop_layer
    return model


FACES = np.random.default_rng(1).integers(0, 256, (5, 48, 48, 1)).astype(np.float32)


@pytest.fixture()
def model_dir(tiny_model_dir, tmp_path):
    """A copy of the tiny model directory that a test may change."""
    return shutil.copytree(tiny_model_dir, tmp_path / "model")


@pytest.mark.parametrize("fmt, name", [("litert", "fer.tflite"), ("onnx", "fer.onnx"), ("savedmodel", "serving/1")])
def test_float_exports_score_as_keras_and_write_their_parity_figures(fmt, name, tiny_model_dir, sample_csv,
                                                                     tmp_path, capsys):
    output = tmp_path / name
    assert main(["export", "--model", str(tiny_model_dir), "--format", fmt, "--output", str(output),
                 "--data", str(sample_csv)]) == 0
    printed = capsys.readouterr().out
    assert "check passed" in printed and "takes 48 x 48 x 1 grey pixels 0-255" in printed
    figures = json.loads((tmp_path / f"{name}.parity.json").read_text())
    validation = load_csv(sample_csv).validation
    assert figures["faces"] == len(validation) and figures["top_emotion_agreement"] == 1.0
    assert figures["max_abs_probability_difference"] < 1e-4 and figures["accuracy"] == figures["keras_accuracy"]
    assert figures["passed"] and figures["ms_per_face"] > 0 and figures["bytes"] > 0
    keras_model = load_model(tiny_model_dir).model  # the file alone, in a fresh runner, gives Keras's scores
    np.testing.assert_allclose(runner(fmt, output)(FACES), keras_model.predict(FACES, verbose=0), atol=1e-5)


@pytest.mark.parametrize("fmt, name", [("onnx", "crop.onnx"), ("savedmodel", "crop/1")])
@pytest.mark.parametrize("crop_layer", ["Cropping2D", "CenterCrop"])
def test_a_cropping_model_exports_in_inference_mode(crop_layer, fmt, name, tmp_path):
    """Models saved before the builders cropped with Cropping2D crop with CenterCrop, which defaults
    to training mode; exported, BatchNorm must still use its moving averages."""
    model = with_distant_moving_statistics(cropping_model(crop_layer))
    write(model, fmt, tmp_path / name)
    np.testing.assert_allclose(runner(fmt, tmp_path / name)(FACES), model.predict(FACES, verbose=0), atol=1e-5)


def test_int8_export_is_smaller_and_is_judged_on_accuracy(tiny_model_dir, sample_csv, tmp_path):
    float_file, int8_file = tmp_path / "float.tflite", tmp_path / "int8.tflite"
    assert main(["export", "--model", str(tiny_model_dir), "--output", str(float_file)]) == 0
    status = main(["export", "--model", str(tiny_model_dir), "--format", "litert-int8", "--output", str(int8_file),
                   "--data", str(sample_csv), "--representative", "40"])
    figures = json.loads((tmp_path / "int8.tflite.parity.json").read_text())
    assert status == (0 if figures["passed"] else 1)
    assert int8_file.stat().st_size < float_file.stat().st_size
    assert "accuracy" in figures and figures["top_emotion_agreement"] > 0.5
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(int8_file))  # weights and activations are integers inside
    kinds = {detail["dtype"] for detail in interpreter.get_tensor_details()}
    assert np.int8 in kinds and interpreter.get_input_details()[0]["dtype"] == np.float32


def test_int8_needs_training_faces(tiny_model_dir, tmp_path, capsys):
    assert main(["export", "--model", str(tiny_model_dir), "--format", "litert-int8",
                 "--output", str(tmp_path / "x.tflite")]) == 2
    assert "needs --data" in capsys.readouterr().err


def test_parity_bars_fail_a_float_export_that_disagrees_and_a_large_int8_file():
    figures = {"format": "onnx", "top_emotion_agreement": 0.99, "size_share": 1.0}
    assert parity.problems(figures) == ["agrees with Keras on only 99.00% of faces (at least 99.9% expected)"]
    figures = {"format": "litert-int8", "top_emotion_agreement": 0.9, "size_share": 0.5, "accuracy": 0.60,
               "keras_accuracy": 0.62}
    assert len(parity.problems(figures)) == 2


def test_the_shipped_litert_file_is_used_only_while_it_matches_the_weights(model_dir, caplog):
    assert (model_dir / LITERT_FILE).is_file()  # train.py writes it
    assert bundled_litert(model_dir) == model_dir / LITERT_FILE
    recorded = json.loads((model_dir / METADATA_FILE).read_text())["litert"]
    assert recorded["file"] == LITERT_FILE and recorded["bytes"] == (model_dir / LITERT_FILE).stat().st_size
    with open(model_dir / WEIGHTS_FILE, "ab") as weights:  # any change of the weights file
        weights.write(b"\0")
    assert bundled_litert(model_dir) is None
    assert "was not exported from the weights" in caplog.text


def test_export_without_output_refreshes_the_shipped_file(model_dir, capsys):
    (model_dir / LITERT_FILE).unlink()
    assert main(["export", "--model", str(model_dir)]) == 0
    assert "random pictures" in capsys.readouterr().out
    assert bundled_litert(model_dir) == model_dir / LITERT_FILE


def test_the_recognizer_runs_the_shipped_file_instead_of_exporting(model_dir, caplog):
    from fer.live.recognizer import EmotionRecognizer

    caplog.set_level("INFO", logger="fer")
    recognizer = EmotionRecognizer(model_dir)
    assert recognizer.scorer.engine == "litert"
    assert f"scoring with {model_dir / LITERT_FILE}" in caplog.text and "exported to LiteRT" not in caplog.text


def test_an_int8_file_in_the_model_directory_runs_live_once_its_check_passed(model_dir, sample_csv, caplog):
    from fer.deployment.bundle import record_check
    from fer.live.recognizer import EmotionRecognizer
    from fer.locations import LITERT_INT8_FILE

    status = main(["export", "--model", str(model_dir), "--format", "litert-int8", "--data", str(sample_csv),
                   "--representative", "40"])
    int8_file = model_dir / LITERT_INT8_FILE
    recorded = json.loads((model_dir / METADATA_FILE).read_text())["litert_int8"]
    assert int8_file.is_file() and recorded["file"] == LITERT_INT8_FILE
    assert recorded["check"]["passed"] == (status == 0) and "accuracy" in recorded["check"]
    assert bundled_litert(model_dir) == (int8_file if status == 0 else model_dir / LITERT_FILE)
    for passed, expected in ((True, int8_file), (False, model_dir / LITERT_FILE)):
        record_check(model_dir, "litert-int8", {"passed": passed, "faces": 3})
        assert bundled_litert(model_dir) == expected
    assert "has not passed its parity check" in caplog.text
    record_check(model_dir, "litert-int8", {"passed": True, "faces": 3})
    assert EmotionRecognizer(model_dir).scorer.engine == "litert-int8"
    assert EmotionRecognizer(model_dir, int8=False).scorer.engine == "litert"
    assert bundled_litert(model_dir, int8=False) == model_dir / LITERT_FILE
    with open(model_dir / WEIGHTS_FILE, "ab") as weights:  # new weights: neither file follows them
        weights.write(b"\0")
    assert bundled_litert(model_dir) is None
    assert f"{LITERT_INT8_FILE} was not exported from the weights" in caplog.text
