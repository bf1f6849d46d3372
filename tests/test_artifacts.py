"""fer.training.artifacts: a model directory gives back the model, its labels and what made it."""

import hashlib
import json

import numpy as np
import pytest

from fer.training.artifacts import file_sha256, load_model, save_model_dir
from fer.training.models import build_model


@pytest.fixture(scope="module")
def model():
    return build_model("vgg", (48, 48, 1), 3, widths=(4, 8, 8, 8))


def test_a_saved_directory_loads_the_same_model_with_its_labels(model, tmp_path):
    save_model_dir(model, tmp_path, ("happy", "sad", "neutral"), {"note": "kept"})
    loaded = load_model(tmp_path)
    assert loaded.labels == ("happy", "sad", "neutral") and loaded.input_size == 48
    faces = np.random.default_rng(0).integers(0, 256, (2, 48, 48, 1)).astype(np.float32)
    np.testing.assert_array_equal(loaded.model.predict(faces, verbose=0), model.predict(faces, verbose=0))
    metadata = json.loads((tmp_path / "metadata.json").read_text())
    assert metadata["note"] == "kept" and metadata["parameters"] == model.count_params()
    assert "compile_config" not in json.loads((tmp_path / "model.json").read_text())


def test_a_directory_missing_its_weights_or_with_the_wrong_labels_is_refused(model, tmp_path):
    save_model_dir(model, tmp_path, ("happy", "sad", "neutral"))
    architecture = json.loads((tmp_path / "model.json").read_text())
    architecture["labels"] = ["happy", "sad"]
    (tmp_path / "model.json").write_text(json.dumps(architecture))
    with pytest.raises(ValueError, match="2 labels for 3 model outputs"):
        load_model(tmp_path)
    (tmp_path / "model.weights.h5").unlink()
    with pytest.raises(FileNotFoundError, match="no model.weights.h5"):
        load_model(tmp_path)


def test_the_data_fingerprint_is_the_file_sha256(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(b"emotion,pixels,Usage\n")
    assert file_sha256(path) == hashlib.sha256(b"emotion,pixels,Usage\n").hexdigest()
