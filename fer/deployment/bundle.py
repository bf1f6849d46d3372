"""The LiteRT file a model directory ships beside its weights, so the demo need not export at each start.

``metadata.json`` records the SHA-256 of the weights the file was exported from; a file whose
weights have changed since (a new training run, a calibration, a hand edit) is not used.
"""

import logging
import pathlib

import keras

from ..locations import LITERT_FILE, METADATA_FILE, WEIGHTS_FILE
from ..training import artifacts

log = logging.getLogger(__name__)


def bundle_litert(model, directory):
    """Export ``model`` to ``directory``'s LiteRT file and record its weights' hash; the path, or None
    on a backend that cannot export to LiteRT."""
    directory = pathlib.Path(directory)
    if keras.backend.backend() != "tensorflow":
        log.info("the %s backend cannot export to LiteRT: %s ships no %s", keras.backend.backend(), directory,
                 LITERT_FILE)
        return None
    path = directory / LITERT_FILE
    model.export(path, format="litert", verbose=False)
    metadata_path = directory / METADATA_FILE
    metadata = artifacts.read_json(metadata_path) if metadata_path.is_file() else {}
    metadata["litert"] = {"file": LITERT_FILE, "bytes": path.stat().st_size,
                          "weights_sha256": artifacts.file_sha256(directory / WEIGHTS_FILE)}
    artifacts.write_json(metadata_path, metadata)
    log.info("wrote %s (%.1f MB)", path, path.stat().st_size / 1e6)
    return path


def bundled_litert(directory):
    """``directory``'s LiteRT file when it was exported from the weights there now, else None."""
    directory = pathlib.Path(directory)
    path, metadata_path = directory / LITERT_FILE, directory / METADATA_FILE
    if not path.is_file():
        return None
    recorded = (artifacts.read_json(metadata_path) if metadata_path.is_file() else {}).get("litert", {})
    if recorded.get("weights_sha256") != artifacts.file_sha256(directory / WEIGHTS_FILE):
        log.warning("%s was not exported from the weights in %s: exporting anew (python -m fer export "
                    "--model %s --format litert refreshes it)", path, directory, directory)
        return None
    return path
