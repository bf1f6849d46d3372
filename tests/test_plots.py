"""fer.training.plots: each figure of a run is written and shows what it should."""

import cv2
import numpy as np
import pandas as pd

from fer.labels import EMOTIONS
from fer.training.plots import plot_class_distribution, plot_confusion, plot_history, plot_sample_faces


def drawn(path):
    image = cv2.imread(str(path))
    assert image is not None and image.std() > 0, path
    return image


def test_the_learning_curves_of_one_epoch_show_its_point(tmp_path):
    history = pd.DataFrame({"epoch": [0], "accuracy": [0.4], "loss": [1.5], "val_accuracy": [0.42],
                            "val_loss": [1.4]})
    blank = history.assign(accuracy=np.nan, loss=np.nan, val_accuracy=np.nan, val_loss=np.nan)
    one, none = drawn(plot_history(history, tmp_path / "one.png")), drawn(plot_history(blank, tmp_path / "none.png"))
    assert (one != none).any(axis=2).sum() > 20, "a lone epoch drew nothing"


def test_a_confusion_matrix_darkens_with_its_counts(tmp_path):
    labels = ("happy", "sad")
    light = drawn(plot_confusion([[1, 0], [0, 1]], labels, tmp_path / "light.png"))
    normalised = drawn(plot_confusion([[50, 50], [0, 100]], labels, tmp_path / "rows.png", normalise=True))
    assert light.shape == normalised.shape and (light != normalised).any()


def test_class_counts_and_sample_faces_are_drawn(tmp_path):
    labels = np.repeat(np.arange(len(EMOTIONS)), 3)
    drawn(plot_class_distribution({"train": labels, "validation": labels[:7]}, EMOTIONS, tmp_path / "classes.png"))
    faces = np.random.default_rng(0).integers(0, 256, (len(labels), 48, 48, 1), dtype=np.uint8)
    drawn(plot_sample_faces(faces, labels, EMOTIONS, tmp_path / "faces.png", per_class=2))
