import json
import shutil

import keras
import numpy as np
import pandas as pd
import pytest

from conftest import tiny_config
from fer.training.artifacts import load_model
from fer.training.averaging import average_weights, refresh_batch_norm
from fer.training.data import load_csv
from fer.training.trainer import train


def tiny_norm_model():
    inputs = keras.Input((3,))
    hidden = keras.layers.Dense(4, name="dense")(inputs)
    return keras.Model(inputs, keras.layers.BatchNormalization(name="norm")(hidden))


def test_averaged_weights_are_the_mean_of_each_file(tmp_path):
    model = tiny_norm_model()
    saved = []
    for index in range(3):
        model.set_weights([np.full(weight.shape, float(index), np.float32) for weight in model.get_weights()])
        saved.append(tmp_path / f"epoch{index}.weights.h5")
        model.save_weights(saved[-1])
    average_weights(model, saved)
    for weight in model.get_weights():
        np.testing.assert_allclose(weight, 1.0)  # (0 + 1 + 2) / 3, BatchNorm statistics included


def test_batch_norm_statistics_are_measured_again_over_every_batch():
    model = tiny_norm_model()
    norm = model.get_layer("norm")
    norm.moving_mean.assign(np.full(4, 100.0, np.float32))  # far from anything the data gives
    random = np.random.default_rng(0)
    batches = [random.normal(loc, 1.0, (16, 3)).astype(np.float32) for loc in (-2.0, 0.0, 5.0)]
    kernel_before = model.get_layer("dense").get_weights()
    assert refresh_batch_norm(model, iter(batches)) == 1
    dense = model.get_layer("dense")(np.concatenate(batches)).numpy()
    np.testing.assert_allclose(norm.moving_mean.numpy(), dense.mean(axis=0), rtol=1e-5, atol=1e-5)
    per_batch_variance = np.mean([dense[16 * k:16 * (k + 1)].var(axis=0) for k in range(3)], axis=0)
    np.testing.assert_allclose(norm.moving_variance.numpy(), per_batch_variance, rtol=1e-4)
    assert norm.momentum == 0.99  # given back
    for after, before in zip(model.get_layer("dense").get_weights(), kernel_before):
        np.testing.assert_array_equal(after, before)


def test_a_run_ends_with_the_average_of_its_last_epochs_where_it_scores_as_well(sample_csv, tmp_path):
    output = tmp_path / "run"
    config = tiny_config(sample_csv, output, epochs=3, average_last=2)
    train(config)
    assert sorted(path.name for path in (output / "epochs").iterdir()) == ["epoch002.weights.h5",
                                                                          "epoch003.weights.h5"]
    metadata = json.loads((output / "metadata.json").read_text())
    averaged = metadata["averaged"]
    assert averaged["epochs"] == [2, 3] and averaged["files"] == 2
    assert averaged["kept"] == (averaged["validation_accuracy"] >= averaged["best_epoch_validation_accuracy"])
    validation = load_csv(sample_csv).validation
    scores = load_model(output).model.predict(validation.images.astype(np.float32), verbose=0)
    kept = max(averaged["validation_accuracy"], averaged["best_epoch_validation_accuracy"])
    assert np.mean(scores.argmax(axis=1) == validation.labels) == pytest.approx(kept)
    assert "average of epochs 2-3" in (output / "report.md").read_text()

    # A finished run resumed trains nothing more and is written again, here with a longer average.
    train(tiny_config(sample_csv, output, epochs=3, average_last=3), resume=True)
    assert list(pd.read_csv(output / "history.csv")["epoch"]) == [0, 1, 2]
    assert json.loads((output / "metadata.json").read_text())["averaged"]["epochs"] == [2, 3]


def test_a_model_of_averaged_weights_is_no_epoch_to_restore_a_run_from(tiny_model_dir, sample_csv, tmp_path):
    averaged = shutil.copytree(tiny_model_dir, tmp_path / "averaged")
    metadata = json.loads((averaged / "metadata.json").read_text())
    metadata["averaged"] = {"epochs": [1, 1], "kept": True}
    (averaged / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(ValueError, match="averaged over several epochs"):
        train(tiny_config(sample_csv, tmp_path / "run"), resume=True, restore_from=averaged)
