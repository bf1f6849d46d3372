"""Shared fixtures: the committed FER-2013 sample and a tiny model trained on it."""

import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
SAMPLE_CSV = FIXTURES / "fer2013_sample.csv.gz"
"""182 real FER-2013 faces: 16 Training, 5 PublicTest and 5 (relabelled) PrivateTest per class."""


@pytest.fixture(scope="session")
def sample_csv():
    """Path of the committed FER-2013 sample CSV."""
    return SAMPLE_CSV


def with_distant_moving_statistics(model):
    """``model`` with every BatchNorm's moving statistics far from any batch's, as after training.

    A model that normalises with the batch's own statistics then scores visibly differently.
    """
    import keras
    import numpy as np

    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.moving_mean.assign(np.full(layer.moving_mean.shape, 0.3, np.float32))
            layer.moving_variance.assign(np.full(layer.moving_variance.shape, 0.01, np.float32))
    return model


def tiny_config(data, output, **overrides):
    """Settings for a fast real training run on the sample: a narrow VGG, one epoch."""
    from fer.training.trainer import TrainConfig

    settings = dict(data=str(data), output=str(output), model="vgg",
                    model_options={"widths": [8, 16, 16, 32]}, epochs=1, batch_size=32)
    settings.update(overrides)
    return TrainConfig(**settings)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A real model directory written by one training epoch on the sample (shared, read-only)."""
    from fer.training.trainer import train

    output = tmp_path_factory.mktemp("tiny_model") / "run"
    return train(tiny_config(SAMPLE_CSV, output))
