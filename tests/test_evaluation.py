"""fer.training.evaluation and ``python -m fer evaluate``: honest scores, with each test-time averaging."""

import gzip
import json
import os
import shutil

import keras
import numpy as np
import pytest

from fer.cli import main as fer_main
from fer.training.evaluation import predict_scores, shifted, tta_views


CROP_LAYERS = {"Cropping2D": lambda: keras.layers.Cropping2D(4), "CenterCrop": lambda: keras.layers.CenterCrop(40, 40)}
"""The builders' crop, and the one of models saved before them."""


def crop_model(seed=0, crop_layer="Cropping2D"):
    """A model that, like the crop-trained ones, looks at the centre 40 x 40 of a 48 x 48 face."""
    keras.utils.set_random_seed(seed)
    core = keras.Sequential([keras.Input((40, 40, 1)), keras.layers.Flatten(),
                             keras.layers.Dense(7, activation="softmax")])
    full = keras.Sequential([keras.Input((48, 48, 1)), CROP_LAYERS[crop_layer](), core])
    return full, core


def faces(count=3):
    return np.random.default_rng(1).integers(0, 256, (count, 48, 48, 1)).astype(np.float32)


def test_a_moved_face_shows_the_corner_window_in_the_centre():
    images = faces(1)
    assert np.array_equal(shifted(images, 4, 4)[:, 4:44, 4:44], images[:, 0:40, 0:40])
    assert np.array_equal(shifted(images, -4, 4)[:, 4:44, 4:44], images[:, 8:48, 0:40])
    assert shifted(images, 4, -4).shape == images.shape


def test_each_averaging_takes_its_number_of_views():
    images = faces(2)
    assert [len(tta_views(images, mode)) for mode in ("none", "flip", "tencrop")] == [1, 2, 10]


@pytest.mark.parametrize("crop_layer", sorted(CROP_LAYERS))
def test_ten_crop_averages_the_four_corners_and_the_centre_each_mirrored(crop_layer):
    full, core = crop_model(crop_layer=crop_layer)
    images = faces()
    windows = [images[:, top:top + 40, left:left + 40] for top, left in ((0, 0), (0, 8), (8, 0), (8, 8), (4, 4))]
    windows += [window[:, :, ::-1] for window in windows]
    expected = np.mean([core.predict(window, verbose=0) for window in windows], axis=0)
    np.testing.assert_allclose(predict_scores(full, images, tta="tencrop"), expected, rtol=1e-5, atol=1e-6)
    single = predict_scores(full, images)
    np.testing.assert_allclose(single, core.predict(windows[4], verbose=0), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="unknown test-time averaging"):
        predict_scores(full, images, tta="fivecrop")


def public_test_only(sample_csv, path):
    """The sample's PublicTest rows alone, as a user's test file would be."""
    with gzip.open(sample_csv, "rt") as handle:
        lines = handle.read().splitlines()
    path.write_text("\n".join([lines[0]] + [line for line in lines[1:] if line.endswith("PublicTest")]) + "\n")
    return path


def test_evaluate_scores_a_file_of_test_rows_alone_and_writes_only_when_asked(tiny_model_dir, sample_csv,
                                                                            tmp_path, capsys):
    data = public_test_only(sample_csv, tmp_path / "public.csv")
    before = sorted(path.name for path in tiny_model_dir.iterdir())
    assert fer_main(["evaluate", "--model", str(tiny_model_dir), "--data", str(data), "--tta", "tencrop"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("accuracy ") and "(35 faces, tencrop TTA)" in printed
    assert sorted(path.name for path in tiny_model_dir.iterdir()) == before, "evaluate wrote into the model"
    output = tmp_path / "scores.json"
    assert fer_main(["evaluate", "--model", str(tiny_model_dir), "--data", str(data), "--output", str(output)]) == 0
    metrics = json.loads(output.read_text())
    assert metrics["samples"] == 35 and metrics["tta"] == "none"
    assert f"{metrics['accuracy']:.4f}" in capsys.readouterr().out


def test_evaluate_names_a_split_the_file_lacks(tiny_model_dir, sample_csv, tmp_path, capsys):
    data = public_test_only(sample_csv, tmp_path / "public.csv")
    code = fer_main(["evaluate", "--model", str(tiny_model_dir), "--data", str(data), "--usage", "PrivateTest"])
    assert code == 2 and "has no PrivateTest rows" in capsys.readouterr().err


def test_evaluate_scores_a_run_still_training_by_its_best_epoch_so_far(tiny_model_dir, sample_csv, tmp_path,
                                                                      capsys):
    data = public_test_only(sample_csv, tmp_path / "public.csv")
    run = shutil.copytree(tiny_model_dir, tmp_path / "run")
    for written_at_the_end in ("model.json", "model.weights.h5", "model.tflite", "metrics.json"):
        (run / written_at_the_end).unlink()
    scores = {}
    for name, model in (("finished", tiny_model_dir), ("training", run)):
        output = tmp_path / f"{name}.json"
        assert fer_main(["evaluate", "--model", str(model), "--data", str(data), "--output", str(output)]) == 0
        scores[name] = json.loads(output.read_text())
    # the finished model is the same epoch, calibrated: a temperature changes no face's top emotion
    assert scores["training"]["confusion_matrix"] == scores["finished"]["confusion_matrix"]
    assert scores["training"]["labels"] == scores["finished"]["labels"]
    (run / "best.weights.h5").unlink()
    capsys.readouterr()
    assert fer_main(["evaluate", "--model", str(run), "--data", str(data)]) == 2
    assert "no best.weights.h5 yet" in capsys.readouterr().err


def test_evaluate_scores_a_resumed_run_by_an_epoch_better_than_the_model_it_wrote(tiny_model_dir, sample_csv,
                                                                                 tmp_path):
    """``--time-limit`` writes the model at each stop; once resumed, a better epoch supersedes it."""
    from fer.training.trainer import load_best_so_far

    data = public_test_only(sample_csv, tmp_path / "public.csv")
    run = shutil.copytree(tiny_model_dir, tmp_path / "run")
    later = load_best_so_far(run).model
    later.get_layer("emotion").bias.assign(np.eye(7, dtype=np.float32)[3] * 100)  # now every face is happy
    later.save_weights(run / "best.weights.h5")
    written = (run / "model.weights.h5").stat().st_mtime
    os.utime(run / "best.weights.h5", (written + 60, written + 60))
    output = tmp_path / "scores.json"
    assert fer_main(["evaluate", "--model", str(run), "--data", str(data), "--output", str(output)]) == 0
    matrix = np.array(json.loads(output.read_text())["confusion_matrix"])
    assert matrix[:, 3].sum() == matrix.sum(), "the model written before the better epoch was scored"
