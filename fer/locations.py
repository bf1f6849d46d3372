"""Where things are: the shipped default model and the files a model directory holds.

Imports nothing heavy, so that command lines can check paths before TensorFlow loads.
"""

import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
"""The repository: ``fer/``, ``models/``, ``templates/`` and the face cascade sit in it."""

DEFAULT_MODEL_DIR = ROOT / "models" / "default"
"""The model directory the demo uses unless told otherwise."""

ARCHITECTURE_FILE = "model.json"
WEIGHTS_FILE = "model.weights.h5"
METADATA_FILE = "metadata.json"
METRICS_FILE = "metrics.json"
LITERT_FILE = "model.tflite"
"""The float32 LiteRT export a model directory may ship, tied to the weights by their hash."""
LITERT_INT8_FILE = "model-int8.tflite"
"""The int8 LiteRT export a model directory may ship; the live path runs it once its parity check passed."""


def model_dir_problem(directory):
    """Why ``directory`` is not a model directory, in one line; None when it is one."""
    directory = pathlib.Path(directory)
    if not directory.is_dir():
        return f"model directory {directory} does not exist; train one with train.py or pass --model"
    missing = [name for name in (ARCHITECTURE_FILE, WEIGHTS_FILE) if not (directory / name).is_file()]
    if missing:
        return f"{directory} is not a model directory: no {' or '.join(missing)}"
    return None
