"""Facial emotion recognition on FER-2013: training, evaluation and live inference.

Heavy parts (Keras, OpenCV) load only when used: ``import fer`` does no work.
"""

from .labels import EMOTIONS

__all__ = ["EMOTIONS", "load_model"]


def load_model(directory):
    """Load a model directory (``model.json`` + ``model.weights.h5``): see :mod:`fer.training.artifacts`."""
    from .training.artifacts import load_model as load

    return load(directory)
