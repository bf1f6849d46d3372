"""Model directories: ``model.json`` + ``model.weights.h5`` (+ ``metadata.json``) on disk.

The architecture JSON also carries the label names under ``"labels"``, so those two files
alone give back a working model.
"""

import dataclasses
import hashlib
import json
import logging
import pathlib
import platform

import keras

from ..labels import EMOTIONS
from ..locations import ARCHITECTURE_FILE, METADATA_FILE, METRICS_FILE, WEIGHTS_FILE  # noqa: F401 (re-exported)

log = logging.getLogger(__name__)


@dataclasses.dataclass
class LoadedModel:
    """A Keras model with the labels of its outputs, in order."""

    model: keras.Model
    labels: tuple
    directory: pathlib.Path

    @property
    def input_size(self):
        """Side of the square face the model takes."""
        return int(self.model.input_shape[1])


def save_model_dir(model, directory, labels, metadata=None):
    """Write the architecture, the weights (no optimizer state) and ``metadata.json``."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    architecture = json.loads(model.to_json())
    architecture.pop("compile_config", None)
    architecture["labels"] = list(labels)
    (directory / ARCHITECTURE_FILE).write_text(json.dumps(architecture))
    inference_model = keras.models.model_from_json(json.dumps(architecture))
    inference_model.set_weights(model.get_weights())
    inference_model.save_weights(directory / WEIGHTS_FILE)
    full_metadata = {"labels": list(labels), "input_shape": list(model.input_shape[1:]),
                     "architecture": model.name, "parameters": int(model.count_params()),
                     "versions": library_versions()}
    full_metadata.update(metadata or {})
    write_json(directory / METADATA_FILE, full_metadata)
    log.info("saved model to %s", directory)


def load_model(directory):
    """Load a model directory into a :class:`LoadedModel`; needs only the JSON and the weights."""
    directory = pathlib.Path(directory)
    for name in (ARCHITECTURE_FILE, WEIGHTS_FILE):
        if not (directory / name).is_file():
            raise FileNotFoundError(f"{directory}: no {name}; is this a model directory made by train.py?")
    architecture = json.loads((directory / ARCHITECTURE_FILE).read_text())
    labels = tuple(architecture.pop("labels", ()))
    model = keras.models.model_from_json(json.dumps(architecture))
    model.load_weights(directory / WEIGHTS_FILE)
    outputs = int(model.output_shape[-1])
    if not labels:
        if outputs != len(EMOTIONS):
            raise ValueError(f"{directory}: {ARCHITECTURE_FILE} names no labels for {outputs} outputs")
        labels = EMOTIONS
    if len(labels) != outputs:
        raise ValueError(f"{directory}: {len(labels)} labels for {outputs} model outputs")
    return LoadedModel(model, labels, directory)


def library_versions():
    """Versions of the libraries that shaped a model, for its metadata."""
    import cv2
    import numpy
    import sklearn

    return {"python": platform.python_version(), "keras": keras.__version__,
            "backend": keras.backend.backend(), "numpy": numpy.__version__,
            "opencv": cv2.__version__, "scikit-learn": sklearn.__version__}


def file_sha256(path):
    """SHA-256 of a file, or of every file under a folder (names and bytes, in sorted order)."""
    path = pathlib.Path(path)
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode())
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def write_json(path, data):
    """Write ``data`` as indented JSON."""
    pathlib.Path(path).write_text(json.dumps(data, indent=2) + "\n")


def read_json(path):
    """Read a JSON file."""
    return json.loads(pathlib.Path(path).read_text())
