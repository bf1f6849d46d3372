import json
import os
import pathlib
import shutil
import subprocess
import sys

import h5py
import keras
import numpy as np
import pandas as pd
import pytest

from conftest import tiny_config
from fer.training.artifacts import load_model
from fer.training.data import load_csv
from fer.training.models import build_model
from fer.training.trainer import TrainConfig, class_weights, initialise_from, train

ROOT = pathlib.Path(__file__).resolve().parents[1]
ARTIFACTS = ["model.json", "model.weights.h5", "metadata.json", "metrics.json", "history.csv", "config.json",
             "history.png", "confusion_matrix.png", "confusion_matrix_normalised.png",
             "class_distribution.png", "sample_faces.png", "report.md"]


def test_a_run_writes_every_artifact(tiny_model_dir):
    for name in ARTIFACTS:
        assert (tiny_model_dir / name).stat().st_size > 0, name
    metadata = json.loads((tiny_model_dir / "metadata.json").read_text())
    assert metadata["labels"] == ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
    assert metadata["input_shape"] == [48, 48, 1]
    assert len(metadata["data_sha256"]) == 64 and metadata["versions"]["keras"] == keras.__version__
    assert metadata["training"]["epochs"] == 1 and metadata["train_images_per_second"] > 0
    metrics = json.loads((tiny_model_dir / "metrics.json").read_text())
    assert {"validation", "validation_tta", "test", "test_tta"} <= set(metrics)
    assert np.array(metrics["test"]["confusion_matrix"]).sum() == 35
    report = (tiny_model_dir / "report.md").read_text()
    assert "![confusion matrix](confusion_matrix.png)" in report


def test_plain_keras_reload_gives_the_same_probabilities(tiny_model_dir, sample_csv):
    plain = keras.models.model_from_json((tiny_model_dir / "model.json").read_text())
    plain.load_weights(tiny_model_dir / "model.weights.h5")
    loaded = load_model(tiny_model_dir)
    faces = load_csv(sample_csv).test.images.astype("float32")
    plain_scores = plain.predict(faces, verbose=0)
    np.testing.assert_array_equal(plain_scores, loaded.model.predict(faces, verbose=0))
    recorded = json.loads((tiny_model_dir / "metrics.json").read_text())["test"]["accuracy"]
    labels = load_csv(sample_csv).test.labels
    assert np.mean(plain_scores.argmax(axis=1) == labels) == pytest.approx(recorded)


def optimizer_steps(checkpoint):
    with h5py.File(checkpoint) as weights:
        return int(weights["optimizer"]["vars"]["0"][()])  # the optimizer's iteration counter


def test_resume_continues_from_the_last_epoch(sample_csv, tmp_path):
    output = tmp_path / "run"
    checkpoint = output / "checkpoints" / "latest.weights.h5"
    train(tiny_config(sample_csv, output, epochs=1))
    assert optimizer_steps(checkpoint) == 4  # 112 faces in batches of 32
    with pytest.raises(FileExistsError, match="--resume"):
        train(tiny_config(sample_csv, output, epochs=2))
    train(tiny_config(sample_csv, output, epochs=2), resume=True)
    assert optimizer_steps(checkpoint) == 8  # momentum, schedule and step count carried on
    assert list(pd.read_csv(output / "history.csv")["epoch"]) == [0, 1]
    assert json.loads((output / "checkpoints" / "training_metadata.json").read_text())["epoch"] == 2
    assert json.loads((output / "metadata.json").read_text())["epochs_trained"] == 2


def test_init_from_starts_from_a_model_directory(tiny_model_dir, sample_csv, tmp_path):
    start = load_model(tiny_model_dir)
    fresh = build_model("vgg", num_classes=7, widths=[8, 16, 16, 32])
    assert any(np.abs(a - b).max() > 1e-3 for a, b in zip(fresh.get_weights(), start.model.get_weights()))
    initialise_from(fresh, tiny_model_dir, start.labels)
    for a, b in zip(fresh.get_weights(), start.model.get_weights()):
        np.testing.assert_array_equal(a, b)

    # A whole run from it: with a vanishing learning rate the trained weights stay the start's, but for
    # the temperature the run's own calibration folds into the output layer.
    output = train(tiny_config(sample_csv, tmp_path / "run", init_from=str(tiny_model_dir), learning_rate=1e-12,
                               warmup_epochs=0, weight_decay=0))
    tuned = load_model(output)
    assert tuned.labels == start.labels
    temperature = json.loads((output / "metadata.json").read_text())["calibration"]["fitted_temperature"]
    output_weights = {weight.path for weight in tuned.model.layers[-1].weights}
    for a, b in zip(tuned.model.trainable_weights, start.model.trainable_weights):
        scale = temperature if a.path in output_weights else 1.0
        np.testing.assert_allclose(keras.ops.convert_to_numpy(a) * scale, keras.ops.convert_to_numpy(b),
                                   atol=1e-6, rtol=1e-5)
    started = json.loads((output / "metadata.json").read_text())["initialised_from"]
    assert started["directory"] == str(tiny_model_dir) and started["epochs_trained"] == 1
    assert f"Started from the weights of `{tiny_model_dir}` after 1 epoch (" in (output / "report.md").read_text()


def test_a_run_started_from_a_model_resumes_without_it(tiny_model_dir, sample_csv, tmp_path):
    start = shutil.copytree(tiny_model_dir, tmp_path / "start")
    config = tiny_config(sample_csv, tmp_path / "run", init_from=str(start), epochs=2)
    train(config, time_limit=0.01)
    shutil.rmtree(start)  # the checkpoint holds the weights now
    train(config, resume=True)
    assert list(pd.read_csv(tmp_path / "run" / "history.csv")["epoch"]) == [0, 1]
    started = json.loads((tmp_path / "run" / "metadata.json").read_text())["initialised_from"]
    assert started["directory"] == str(start) and started["epochs_trained"] == 1  # as it was at the start


def test_a_rebuilt_run_keeps_its_start_when_its_model_is_shipped_where_it_started(tiny_model_dir, sample_csv,
                                                                                  tmp_path):
    start, run = shutil.copytree(tiny_model_dir, tmp_path / "default"), tmp_path / "run"
    config = tiny_config(sample_csv, run, init_from=str(start), epochs=3)
    train(config, time_limit=0.01)
    shutil.rmtree(start)
    shutil.copytree(run, start)  # epoch 1 of the run is shipped over the model it started from...
    shutil.rmtree(run)  # ...then the run's folder is lost and rebuilt from it
    train(config, resume=True, restore_from=start, time_limit=0.01)
    started = json.loads((run / "metadata.json").read_text())["initialised_from"]
    assert started["directory"] == str(start) and started["epochs_trained"] == 1
    assert "initialised_from" not in started  # the tiny model's record, not that of the shipped epoch 1


@pytest.mark.parametrize("model, options, labels, reason", [
    ("vgg", {"widths": [8, 16, 16, 16]}, None, "other model options"),
    ("mini_xception", {}, None, "holds a vgg model"),
    ("vgg", {"widths": [8, 16, 16, 32]}, ("happy", "sad"), "labels"),
])
def test_init_from_refuses_a_model_that_does_not_fit(tiny_model_dir, model, options, labels, reason):
    labels = labels or load_model(tiny_model_dir).labels
    with pytest.raises(ValueError, match=reason):
        initialise_from(build_model(model, num_classes=len(labels), **options), tiny_model_dir, labels)


def test_time_limit_stops_at_an_epoch_and_resume_goes_on(sample_csv, tmp_path, caplog):
    output = tmp_path / "run"
    with caplog.at_level("INFO", logger="fer.training"):
        train(tiny_config(sample_csv, output, epochs=3), time_limit=0.01)
    assert "time limit: stopping after epoch 1" in caplog.text
    assert len(pd.read_csv(output / "history.csv")) == 1
    assert (output / "model.weights.h5").is_file()  # each piece leaves a usable model directory
    train(tiny_config(sample_csv, output, epochs=3), resume=True)
    assert list(pd.read_csv(output / "history.csv")["epoch"]) == [0, 1, 2]


def test_a_lost_checkpoint_is_rebuilt_from_the_model_the_run_wrote(sample_csv, tmp_path, caplog):
    run, shipped = tmp_path / "run", tmp_path / "shipped"
    config = tiny_config(sample_csv, run, epochs=3)
    train(config, time_limit=0.01)  # epoch 1 of 3, then a calibrated model directory
    shutil.copytree(run, shipped)
    assert json.loads((shipped / "metadata.json").read_text())["calibration"]["temperature"] != 1
    trained = build_model("vgg", num_classes=7, widths=[8, 16, 16, 32])
    trained.load_weights(run / "best.weights.h5")  # epoch 1 as trained, before calibration
    shutil.rmtree(run)  # the run's folder is lost; the model directory it wrote is left

    with caplog.at_level("INFO", logger="fer.training"):
        train(config, resume=True, restore_from=shipped, time_limit=0.01)
    assert "restored" in caplog.text and "at epoch 1 from" in caplog.text
    assert optimizer_steps(run / "checkpoints" / "latest.weights.h5") == 8  # epoch 2 on the same schedule
    history = pd.read_csv(run / "history.csv")
    assert list(history["epoch"]) == [0, 1]
    assert history["val_accuracy"][0] == pd.read_csv(shipped / "history.csv")["val_accuracy"][0]
    with pytest.raises(FileExistsError, match="--resume"):  # never over a checkpoint that is there
        train(config, resume=True, restore_from=shipped)

    from fer.training.data import load_dataset
    from fer.training.trainer import build_compiled_model, restore_checkpoint

    dataset = load_dataset(str(sample_csv))
    rebuilt = build_compiled_model(config, dataset, steps_per_epoch=4, initialise=False)
    assert restore_checkpoint(rebuilt, shipped, tmp_path / "again", dataset.labels, str(sample_csv), 4) == 1
    assert optimizer_steps(tmp_path / "again" / "checkpoints" / "latest.weights.h5") == 4
    for mine, theirs in zip(rebuilt.get_weights(), trained.get_weights()):  # the temperature taken back out
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-7)


def test_a_resumed_run_trains_on_the_batches_an_uninterrupted_run_does(sample_csv, tmp_path, monkeypatch):
    from fer.training import augment

    seen = []  # (run, epoch, digest of a batch's faces) of every batch handed to fit
    original = augment.FaceBatches.__getitem__

    def recording(batches, index):
        faces, targets = original(batches, index)
        seen.append((run, batches.epoch, hash(np.asarray(faces).tobytes())))
        return faces, targets

    monkeypatch.setattr(augment.FaceBatches, "__getitem__", recording)
    config = dict(epochs=2, augment=augment.AugmentConfig(mixup=0.2), model_options={"widths": [4, 4, 4, 4]})
    run = "straight"
    train(tiny_config(sample_csv, tmp_path / run, **config))
    run = "pieces"
    train(tiny_config(sample_csv, tmp_path / run, **config), time_limit=0.01)
    train(tiny_config(sample_csv, tmp_path / run, **config), resume=True)

    def second_epoch(name):
        return [digest for who, epoch, digest in seen if who == name and epoch == 1]

    assert len(second_epoch("straight")) >= 4  # 112 faces in batches of 32
    assert second_epoch("pieces") == second_epoch("straight")
    first_epoch = {digest for who, epoch, digest in seen if who == "straight" and epoch == 0}
    assert not first_epoch & set(second_epoch("straight"))  # the second epoch is no replay of the first

WITHOUT_TENSORFLOW = """
import runpy, sys

class NoTensorFlow:  # as on the lent GPU machine, where TensorFlow is not installed
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "tensorflow":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, NoTensorFlow())
sys.path.insert(0, ".")
sys.argv = ["train.py", *sys.argv[1:]]
runpy.run_path("train.py", run_name="__main__")
"""


def train_without_tensorflow(*args):
    return subprocess.run([sys.executable, "-c", WITHOUT_TENSORFLOW, *args], capture_output=True, text=True,
                          timeout=600, cwd=ROOT, env={**os.environ, "KERAS_BACKEND": "jax"})


def test_jax_trains_in_time_limited_pieces_without_tensorflow(sample_csv, tmp_path):
    output, settings = tmp_path / "run", tmp_path / "narrow.json"
    settings.write_text(json.dumps({"model_options": {"widths": [8, 16, 16, 32]}}))
    first = train_without_tensorflow("--data", str(sample_csv), "--config", str(settings), "--epochs", "2",
                                     "--batch-size", "112", "--class-weights", "sqrt", "--mixup", "0.2", "--time-limit", "0.01",
                                     "--output", str(output))
    assert first.returncode == 0, first.stderr[-3000:]
    assert "time limit: stopping after epoch 1" in first.stderr
    second = train_without_tensorflow("--resume", str(output), "--precision", "bfloat16")  # e.g. another machine
    assert second.returncode == 0, second.stderr[-3000:]
    assert list(pd.read_csv(output / "history.csv")["epoch"]) == [0, 1]
    metadata = json.loads((output / "metadata.json").read_text())
    assert metadata["versions"]["backend"] == "jax" and metadata["epochs_trained"] == 2
    assert metadata["precision"] == "bfloat16" and "training in bfloat16" in second.stderr
    loaded = load_model(output)  # weights saved under JAX load here, under TensorFlow
    faces = load_csv(sample_csv).test.images.astype("float32")
    scores = loaded.model.predict(faces, verbose=0)
    recorded = json.loads((output / "metrics.json").read_text())["test"]["accuracy"]
    assert np.mean(scores.argmax(axis=1) == load_csv(sample_csv).test.labels) == pytest.approx(recorded)


def test_class_weights():
    labels = np.array([0, 0, 0, 1])
    assert class_weights(labels, 2, "none") is None
    balanced = class_weights(labels, 2, "balanced")
    assert balanced[1] == pytest.approx(3 * balanced[0])
    assert class_weights(labels, 2, "sqrt")[1] == pytest.approx(np.sqrt(balanced[1]))


def test_config_round_trips_through_json(tmp_path):
    config = tiny_config("data.csv", tmp_path, classes=("happy", "sad"))
    again = TrainConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config
    with pytest.raises(ValueError, match="unknown setting"):
        TrainConfig.from_dict({**config.to_dict(), "colour": "blue"})


MIRRORED = """
import logging, sys, tensorflow as tf
logging.basicConfig(level=logging.INFO)
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
sys.path[:0] = [sys.argv[3], sys.argv[3] + "/tests"]
from conftest import tiny_config
from fer.training.trainer import train
train(tiny_config(sys.argv[1], sys.argv[2], devices=("/cpu:0", "/cpu:1")))
"""


def test_data_parallel_training_on_two_logical_cpus(sample_csv, tmp_path):
    result = subprocess.run([sys.executable, "-c", MIRRORED, str(sample_csv), str(tmp_path / "run"), str(ROOT)],
                            capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "training data-parallel on 2 devices" in result.stderr
    assert (tmp_path / "run" / "model.weights.h5").is_file()


def run_train_cli(*args):
    return subprocess.run([sys.executable, str(ROOT / "train.py"), *args], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)


@pytest.mark.parametrize("args, reason", [
    (["--data", "missing.csv", "--output", "{tmp}/run"], "missing.csv: no such file or folder"),
    (["--data", "tests/fixtures/fer2013_sample.csv.gz", "--classes", "happy,joy", "--output", "{tmp}/run"],
     "unknown emotion(s) joy"),
    (["--resume", "nowhere"], "nowhere: no config.json"),
    (["--data", "tests/fixtures/fer2013_sample.csv.gz", "--epochs", "0", "--output", "{tmp}/run"],
     "--epochs must be 1 or more, not 0"),
    (["--data", "tests/fixtures/fer2013_sample.csv.gz", "--average-last", "-1", "--output", "{tmp}/run"],
     "--average-last must be 0 (off) or more"),
    (["--data", "tests/fixtures/fer2013_sample.csv.gz", "--widths", "64,x", "--output", "{tmp}/run"],
     "expected whole numbers"),
    (["--data", "tests/fixtures/fer2013_sample.csv.gz", "--init-from", "nowhere", "--output", "{tmp}/run"],
     "nowhere: no model.json"),
    (["--restore-from", "models/default"], "--restore-from needs --resume DIR"),
    (["--resume", "{tmp}/run", "--restore-from", "nowhere"], "--restore-from nowhere: no metadata.json"),
    (["--resume", "{tmp}/run", "--restore-from", "models/default", "--data", "tests/fixtures/fer2013_sample.csv.gz"],
     "is not the data that trained it"),
])
def test_cli_bad_input_exits_non_zero_with_one_line(args, reason, tmp_path):
    result = run_train_cli(*[arg.format(tmp=tmp_path) for arg in args])
    assert result.returncode == 2
    assert reason in result.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "run").exists()  # a run that fails on its input leaves no half-made directory


def test_cli_trains_a_class_subset(tmp_path):
    output = tmp_path / "run"
    result = run_train_cli("--data", "tests/fixtures/fer2013_sample.csv.gz", "--classes", "happy,sad,surprise,neutral",
                           "--epochs", "1", "--batch-size", "32", "--model", "mini_xception", "--output", str(output))
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = load_model(output)
    assert loaded.labels == ("happy", "sad", "surprise", "neutral")
    assert loaded.model.output_shape == (None, 4)


def test_mixup_trains_with_class_weights_on_tensorflow(sample_csv, tmp_path):
    from fer.training.augment import AugmentConfig

    config = tiny_config(sample_csv, tmp_path / "run", class_weights="sqrt", augment=AugmentConfig(mixup=0.2))
    train(config)
    assert json.loads((tmp_path / "run" / "config.json").read_text())["augment"]["mixup"] == 0.2
    assert np.isfinite(pd.read_csv(tmp_path / "run" / "history.csv")["loss"]).all()


def test_a_one_epoch_report_speaks_in_the_singular_and_names_its_rate_and_speed(tiny_model_dir):
    report = (tiny_model_dir / "report.md").read_text()
    assert "1 epoch," in report and "1 epochs" not in report
    assert "learning_rate: 0.01" in report and "learning_rate: None" not in report
    assert "images/s" in report and "Trained in" in report


def test_each_epoch_logs_its_speed_and_the_time_left(sample_csv, tmp_path, caplog):
    caplog.set_level("INFO", logger="fer.training")
    train(tiny_config(sample_csv, tmp_path / "run", epochs=2, model="vgg_wide"))  # its Keras name is "vgg"
    messages = [record.getMessage() for record in caplog.records]
    assert any(message.startswith("vgg_wide: ") and "parameters" in message for message in messages)
    assert (tmp_path / "run" / "report.md").read_text().startswith("# Training report: vgg_wide\n")
    assert json.loads((tmp_path / "run" / "metadata.json").read_text())["architecture"] == "vgg_wide"
    lines = [message for message in messages if "images/s" in message]
    assert lines[0].startswith("epoch 1/2:") and "to go" in lines[0]
    assert lines[1].startswith("epoch 2/2:") and "to go" not in lines[1]
    assert (pd.read_csv(tmp_path / "run" / "history.csv")["images_per_second"] > 0).all()


def test_cli_widths_crop_and_arch_reach_the_config(tmp_path):
    from fer.cli import build_parser
    from fer.commands.train import config_from_args

    parser = build_parser("train", "train.py")
    args = parser.parse_args(["--data", "x.csv", "--arch", "vgg", "--widths", "8,16", "--crop", "40",
                              "--precision", "float32", "--output", str(tmp_path / "run")])
    config = config_from_args(args, parser)
    assert (config.model, config.model_options, config.precision) == ("vgg", {"widths": (8, 16), "crop": 40}, "float32")
