import json

import keras
import numpy as np
import pytest

from fer import load_model

from fer import cli
from fer.training.artifacts import save_model_dir
from fer.training.data import load_csv
from fer.studies.ensemble import build_ensemble, make_ensemble
from fer.labels import EMOTIONS
from fer.training.models import build_model


def _saved_model(directory, seed, input_shape=(48, 48, 1), labels=EMOTIONS):
    """An untrained tiny model directory: different seeds give different outputs."""
    keras.utils.set_random_seed(seed)
    model = build_model("vgg", input_shape, len(labels), widths=(8, 16, 16, 32))
    save_model_dir(model, directory, labels)
    return directory


@pytest.fixture(scope="module")
def faces(sample_csv):
    return load_csv(sample_csv).test.images.astype("float32")


def test_the_ensemble_outputs_the_mean_of_its_members(tiny_model_dir, tmp_path, faces):
    other = _saved_model(tmp_path / "other", seed=1)
    members = [tiny_model_dir, other, tiny_model_dir]  # the same model twice: names must still be unique
    make_ensemble(members, tmp_path / "ensemble")
    ensemble = load_model(tmp_path / "ensemble")
    member_scores = [load_model(directory).model.predict(faces, verbose=0) for directory in members]
    assert not np.allclose(member_scores[0], member_scores[1])
    np.testing.assert_allclose(ensemble.model.predict(faces, verbose=0), np.mean(member_scores, axis=0),
                               rtol=1e-5, atol=1e-6)
    assert ensemble.labels == EMOTIONS and ensemble.input_size == 48
    assert len({layer.name for layer in ensemble.model.layers}) == len(ensemble.model.layers)
    metadata = json.loads((tmp_path / "ensemble" / "metadata.json").read_text())
    assert metadata["members"] == [str(directory) for directory in members]


def test_the_ensemble_reloads_with_plain_keras(tiny_model_dir, tmp_path, faces):
    make_ensemble([tiny_model_dir, _saved_model(tmp_path / "other", seed=2)], tmp_path / "ensemble")
    plain = keras.models.model_from_json((tmp_path / "ensemble" / "model.json").read_text())
    plain.load_weights(tmp_path / "ensemble" / "model.weights.h5")
    np.testing.assert_array_equal(plain.predict(faces, verbose=0),
                                  load_model(tmp_path / "ensemble").model.predict(faces, verbose=0))


def test_the_command_scores_the_ensemble_like_any_model(tiny_model_dir, tmp_path, sample_csv, faces, capsys):
    other = _saved_model(tmp_path / "other", seed=3)
    output = tmp_path / "ensemble"
    assert cli.main(["ensemble", str(tiny_model_dir), str(other), "--output", str(output),
                     "--data", str(sample_csv)]) == 0
    metrics = json.loads((output / "metrics.json").read_text())
    assert {"validation", "validation_tta", "test", "test_tta"} <= set(metrics)
    predicted = load_model(output).model.predict(faces, verbose=0).argmax(axis=1)
    labels = load_csv(sample_csv).test.labels
    assert metrics["test"]["accuracy"] == pytest.approx(np.mean(predicted == labels))
    assert "ensemble of 2 models" in capsys.readouterr().out


def test_the_report_scores_each_member_alone_and_keeps_its_provenance(tiny_model_dir, tmp_path, sample_csv,
                                                                     faces):
    other = _saved_model(tmp_path / "other", seed=4)
    output = tmp_path / "ensemble"
    make_ensemble([tiny_model_dir, other], output, sample_csv)
    report = (output / "report.md").read_text()
    labels = load_csv(sample_csv).test.labels
    for directory in (tiny_model_dir, other):
        accuracy = np.mean(load_model(directory).model.predict(faces, verbose=0).argmax(axis=1) == labels)
        assert f"| `{directory.name}` | vgg |" in report
        assert f"| {accuracy:.4f} |" in report
    # the trained member brings its settings and learning curves; the untrained one has none
    assert "## Settings of `run`" in report and "## Settings of `other`" not in report
    assert "![learning curves of run](member1_history.png)" in report
    assert (output / "member1_history.png").is_file() and not (output / "member2_history.png").exists()
    for figure in ("confusion_matrix.png", "confusion_matrix_normalised.png"):
        assert f"]({figure})" in report and (output / figure).is_file()
    provenance = json.loads((output / "metadata.json").read_text())["member_provenance"]
    trained = json.loads((tiny_model_dir / "metadata.json").read_text())
    assert provenance[0]["training"] == trained["training"]
    assert provenance[0]["best_epoch"] == trained["best_epoch"] == 1
    assert "training" not in provenance[1] and provenance[1]["architecture"] == "vgg"


def test_members_must_share_labels_and_input_size(tiny_model_dir, tmp_path, capsys):
    two_classes = _saved_model(tmp_path / "two", seed=0, labels=("happy", "sad"))
    bigger = _saved_model(tmp_path / "bigger", seed=0, input_shape=(64, 64, 1))
    with pytest.raises(ValueError, match="must share labels"):
        build_ensemble([load_model(tiny_model_dir), load_model(two_classes)])
    with pytest.raises(ValueError, match="must share the input size"):
        build_ensemble([load_model(tiny_model_dir), load_model(bigger)])
    with pytest.raises(ValueError, match="at least two"):
        build_ensemble([load_model(tiny_model_dir)])
    assert cli.main(["ensemble", str(tiny_model_dir), str(two_classes), "--output", str(tmp_path / "e")]) == 2
    assert "must share labels" in capsys.readouterr().err
    assert not (tmp_path / "e").exists()
