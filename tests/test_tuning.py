import json

import keras_tuner
import numpy as np
import pandas as pd
import pytest

from conftest import tiny_config
from fer.commands import train as train_cli
from fer.studies import tuning
from fer.cli import build_parser, main
from fer.training.data import Split, load_dataset
from fer.training.trainer import TrainConfig


def test_the_search_space_scales_widths_dropout_learning_rate_and_augmentation():
    base = tiny_config("data.csv", "out", epochs=30)
    hp = keras_tuner.HyperParameters()
    tuning.trial_config(base, hp, epochs=2)  # registers the space
    hp.values.update(width_multiplier=2.0, dropout=0.3, learning_rate=0.02, augment_strength=0.5)
    config = tuning.trial_config(base, hp, epochs=2)
    assert config.model_options == {"widths": [16, 32, 32, 64], "dropout": 0.3}
    assert config.learning_rate == 0.02 and config.epochs == 2
    assert config.augment == base.augment.scaled(0.5)
    assert config.augment.rotation == pytest.approx(base.augment.rotation / 2)
    assert set(hp.values) == {"width_multiplier", "dropout", "learning_rate", "augment_strength"}
    learning_rate = next(parameter for parameter in hp.space if parameter.name == "learning_rate")
    assert learning_rate.min_value == pytest.approx(base.base_learning_rate * 0.1)
    assert learning_rate.max_value == pytest.approx(base.base_learning_rate * 3)


def test_a_builder_without_widths_gets_no_width_hyperparameter():
    hp = keras_tuner.HyperParameters()
    config = tuning.trial_config(tiny_config("data.csv", "out", model="baseline", model_options={}), hp, 1)
    assert "width_multiplier" not in hp.values and "widths" not in config.model_options
    assert "dropout" in hp.values


def test_the_search_is_seeded(sample_csv, tmp_path):
    dataset = tuning.without_test(load_dataset(sample_csv))

    def first_proposal(name, seed):
        tuner = tuning.build_tuner(tiny_config(sample_csv, tmp_path / name, seed=seed), dataset, 2, 1)
        return tuner.oracle.create_trial("first").hyperparameters.values

    assert first_proposal("a", seed=0) == first_proposal("b", seed=0)
    assert first_proposal("c", seed=0) != first_proposal("d", seed=1)


def test_two_trials_write_the_table_and_a_best_config_train_py_trains(sample_csv, tmp_path, monkeypatch):
    def dataset_with_poisoned_test(*args, **kwargs):
        dataset = load_dataset(*args, **kwargs)
        # faces of the wrong size and impossible labels: a tuner that touched the test split would fail
        dataset.test = Split(np.zeros((3, 5, 5, 1), np.uint8), np.array([99, 99, 99]))
        return dataset

    monkeypatch.setattr(tuning, "load_dataset", dataset_with_poisoned_test)
    output = tuning.tune(tiny_config(sample_csv, tmp_path / "tune", epochs=3), trials=2, tune_epochs=1)

    table = pd.read_csv(output / "trials.csv")
    assert len(table) == 2 and set(table["status"]) == {"COMPLETED"}
    assert table["val_accuracy"].between(0, 1).all() and list(table["best_epoch"]) == [1, 1]
    assert table["val_accuracy"].is_monotonic_decreasing
    assert (output / "tuner" / "oracle.json").is_file()
    assert "| trial | status | val_accuracy |" in (output / "tuning.md").read_text()

    best = json.loads((output / "best.json").read_text())
    assert "output" not in best and best["epochs"] == 3  # the full run, not the trial length
    assert best["learning_rate"] == pytest.approx(table["learning_rate"].iloc[0])
    assert best["model_options"]["dropout"] == pytest.approx(table["dropout"].iloc[0])
    full_output = tmp_path / "full"
    argv = ["--config", str(output / "best.json"), "--data", str(sample_csv), "--output", str(full_output)]
    parser = build_parser("train", "train.py")
    config = train_cli.config_from_args(parser.parse_args(argv), parser)
    assert config == TrainConfig.from_dict({**best, "data": str(sample_csv), "output": str(full_output)})

    assert main(argv + ["--epochs", "1"], command="train", prog="train.py") == 0
    trained = json.loads((full_output / "metadata.json").read_text())["training"]
    assert trained["model_options"] == best["model_options"] and trained["augment"] == best["augment"]


def test_bad_trial_counts_are_refused(tmp_path):
    with pytest.raises(ValueError, match="--trials"):
        tuning.tune(tiny_config("data.csv", tmp_path), trials=0)
