"""The LiteRT files a model directory ships beside its weights, so the demo need not export at each start.

``model.tflite`` is the float32 export; ``model-int8.tflite`` (optional) the full-integer one,
smaller and faster on CPUs. ``metadata.json`` records the SHA-256 of the weights each file was
exported from, and for the int8 file whether its parity check passed; a
file whose weights have changed since (a new training run, a calibration, a hand edit) is not
used, nor an int8 file whose check failed or never ran.
"""

import logging
import pathlib

import keras

from ..locations import LITERT_FILE, LITERT_INT8_FILE, METADATA_FILE, WEIGHTS_FILE
from ..training import artifacts

log = logging.getLogger(__name__)

BUNDLED = {"litert": (LITERT_FILE, "litert"), "litert-int8": (LITERT_INT8_FILE, "litert_int8")}
"""Format -> (file name in the model directory, its key in ``metadata.json``)."""


def bundle_litert(model, directory, fmt="litert", representative=None):
    """Export ``model`` to ``directory``'s LiteRT file of ``fmt`` (``litert`` or ``litert-int8``, whose
    value ranges the ``representative`` faces set) and record its weights' hash; the path, or None
    on a backend that cannot export to LiteRT."""
    from .formats import write

    directory = pathlib.Path(directory)
    name, key = BUNDLED[fmt]
    if keras.backend.backend() != "tensorflow":
        log.info("the %s backend cannot export to LiteRT: %s ships no %s", keras.backend.backend(), directory, name)
        return None
    path = write(model, fmt, directory / name, representative)
    _update_metadata(directory, key, {"file": name, "bytes": path.stat().st_size,
                                      "weights_sha256": artifacts.file_sha256(directory / WEIGHTS_FILE)})
    log.info("wrote %s (%.1f MB)", path, path.stat().st_size / 1e6)
    return path


def record_check(directory, fmt, figures):
    """Keep the outcome of a bundled file's parity check (``fer.deployment.parity.check``) in ``metadata.json``."""
    _, key = BUNDLED[fmt]
    entry = _read_metadata(pathlib.Path(directory)).get(key, {})
    entry["check"] = {name: figures[name] for name in ("passed", "faces", "top_emotion_agreement", "accuracy",
                                                        "keras_accuracy", "ms_per_face") if name in figures}
    _update_metadata(pathlib.Path(directory), key, entry)


def bundled_litert(directory, int8=True):
    """The LiteRT file to score with from ``directory``: its int8 file where ``int8`` and that file
    was exported from the weights there now and passed its check, else its float32 file when that
    matches the weights, else None."""
    directory = pathlib.Path(directory)
    metadata = _read_metadata(directory)
    weights = artifacts.file_sha256(directory / WEIGHTS_FILE)  # hashed once for both files
    if int8 and (directory / LITERT_INT8_FILE).is_file():
        recorded = metadata.get("litert_int8", {})
        if not _matches_weights(LITERT_INT8_FILE, recorded, weights):
            log.warning("%s was not exported from the weights in %s: not used (python -m fer export --model %s "
                        "--format litert-int8 --data <CSV> refreshes it)", LITERT_INT8_FILE, directory, directory)
        elif not recorded.get("check", {}).get("passed"):
            log.warning("%s in %s has not passed its parity check: not used", LITERT_INT8_FILE, directory)
        else:
            return directory / LITERT_INT8_FILE
    if not (directory / LITERT_FILE).is_file():
        return None
    if not _matches_weights(LITERT_FILE, metadata.get("litert", {}), weights):
        log.warning("%s was not exported from the weights in %s: exporting anew (python -m fer export "
                    "--model %s --format litert refreshes it)", directory / LITERT_FILE, directory, directory)
        return None
    return directory / LITERT_FILE


def _matches_weights(name, recorded, weights_sha256):
    return recorded.get("file", name) == name and recorded.get("weights_sha256") == weights_sha256


def _read_metadata(directory):
    path = directory / METADATA_FILE
    return artifacts.read_json(path) if path.is_file() else {}


def _update_metadata(directory, key, entry):
    metadata = _read_metadata(directory)
    metadata[key] = entry
    artifacts.write_json(directory / METADATA_FILE, metadata)
