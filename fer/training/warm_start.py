"""Start a run from a model directory's weights: fine-tuning (``--init-from``), or going on with
the run that wrote it after its checkpoint was lost (``--restore-from``)."""

import logging
import pathlib

from . import artifacts
from .calibration import fold_temperature
from .run_files import (BEST_WEIGHTS_FILE, CHECKPOINT_DIR, CHECKPOINT_STATE_FILE, CHECKPOINT_WEIGHTS_FILE,
                        HISTORY_FILE, read_history)

log = logging.getLogger(__name__)


def initialise_from(model, directory, labels, option="--init-from"):
    """Start ``model`` from the weights of the model directory ``directory`` (fine-tuning).

    The directory must hold the same architecture for the same labels; anything else raises
    ``ValueError`` before training starts.
    """
    start = artifacts.load_model(directory)
    if start.labels != tuple(labels):
        raise ValueError(f"{option} {directory}: its labels {', '.join(start.labels)} differ from "
                         f"the data's {', '.join(labels)}")
    if start.model.name != model.name or len(start.model.weights) != len(model.weights):
        raise ValueError(f"{option} {directory}: it holds a {start.model.name} model, not this {model.name}")
    for target, source in zip(model.weights, start.model.weights):
        if tuple(target.shape) != tuple(source.shape):
            raise ValueError(f"{option} {directory}: {source.path} is {tuple(source.shape)}, "
                             f"this model's {target.path} is {tuple(target.shape)} (other model options?)")
    model.set_weights(start.model.get_weights())
    log.info("initialised %s from %s", model.name, directory)


def restore_checkpoint(model, directory, output, labels, data, steps_per_epoch):
    """Rebuild the run in ``output`` as it stood at the best epoch of ``directory``, a model
    directory that run wrote; returns that epoch.

    ``model`` is built and compiled with the run's settings. It takes the directory's weights
    with their folded calibration temperature multiplied back into the output layer, and its
    optimizer the step count of that epoch, so the learning-rate schedule goes on where it was
    (momentum starts again from zero). The checkpoint, ``best.weights.h5`` and the history up to
    that epoch are written to ``output``; ``--resume`` then trains the epochs after it.
    """
    directory, output = pathlib.Path(directory), pathlib.Path(output)
    metadata = artifacts.read_json(directory / artifacts.METADATA_FILE)
    epoch, history = metadata.get("best_epoch"), read_history(directory)
    if not epoch or len(history) < epoch:
        raise ValueError(f"--restore-from {directory}: no {HISTORY_FILE} and best epoch to go on from; "
                         "only a model directory written by train.py has them")
    if metadata.get("averaged", {}).get("kept"):
        raise ValueError(f"--restore-from {directory}: it holds weights averaged over several epochs, not the "
                         "state of one epoch to go on from")
    if metadata.get("data_sha256") and metadata["data_sha256"] != artifacts.file_sha256(data):
        raise ValueError(f"--restore-from {directory}: {data} is not the data that trained it (sha256 differs)")
    initialise_from(model, directory, labels, option="--restore-from")
    fold_temperature(model, 1 / metadata.get("calibration", {}).get("temperature", 1.0))  # unfolds it
    model.optimizer.build(model.trainable_variables)
    model.optimizer.iterations.assign(epoch * steps_per_epoch)
    (output / CHECKPOINT_DIR).mkdir(parents=True, exist_ok=True)
    model.save_weights(output / CHECKPOINT_DIR / CHECKPOINT_WEIGHTS_FILE)
    artifacts.write_json(output / CHECKPOINT_DIR / CHECKPOINT_STATE_FILE, {"epoch": epoch, "batch": 0})
    model.save_weights(output / BEST_WEIGHTS_FILE)
    history.iloc[:epoch].to_csv(output / HISTORY_FILE, index=False)
    log.info("restored %s at epoch %d from %s (validation accuracy %.4f then); training goes on from there",
             output, epoch, directory, history["val_accuracy"][epoch - 1])
    return epoch
