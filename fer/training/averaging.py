"""Weight averaging over a run's last epochs (stochastic weight averaging, Izmailov et al. 2018).

With ``--average-last N`` the run keeps the weights of each of its last N epochs in ``epochs/``.
At the end their mean replaces the best epoch when it scores at least as well on the validation
faces. Averaged weights make the BatchNorm statistics of no single epoch, so they are measured
again with one pass over the training batches, as training sees them.
"""

import logging
import pathlib

import keras
import numpy as np

from .evaluation import accuracy
from .run_files import epoch_weights_path

log = logging.getLogger(__name__)


class KeepEpochWeights(keras.callbacks.Callback):
    """Saves the weights of every epoch from ``first_epoch`` (counted from 1) on in ``output``/epochs/."""

    def __init__(self, output, first_epoch):
        super().__init__()
        self.output = pathlib.Path(output)
        self.first_epoch = first_epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 >= self.first_epoch:
            path = epoch_weights_path(self.output, epoch + 1)
            path.parent.mkdir(parents=True, exist_ok=True)
            self.model.save_weights(path)


def kept_epochs(output, epochs, last):
    """The saved weight files of epochs ``epochs - last + 1`` to ``epochs``, by epoch; those there."""
    found = {epoch: epoch_weights_path(output, epoch) for epoch in range(max(1, epochs - last + 1), epochs + 1)}
    return {epoch: path for epoch, path in found.items() if path.is_file()}


def average_weights(model, paths):
    """Set ``model``'s weights (BatchNorm statistics too) to the mean of those in ``paths``."""
    total = None
    for path in paths:
        model.load_weights(path)
        weights = [np.asarray(value, dtype=np.float64) for value in model.get_weights()]
        total = weights if total is None else [sum_ + value for sum_, value in zip(total, weights)]
    model.set_weights([(sum_ / len(paths)).astype(np.float32) for sum_ in total])


def batch_norm_layers(model):
    """Every BatchNormalization layer of ``model``, nested models included."""
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            found.append(layer)
        elif hasattr(layer, "layers"):
            found += batch_norm_layers(layer)
    return found


def refresh_batch_norm(model, batches):
    """Measure the BatchNorm moving statistics again: the mean over ``batches`` of each batch's.

    Each batch of faces goes through ``model`` in training mode with the layers' momentum set so
    that batch k weighs 1/k in the running figures; the other weights do not change.
    """
    layers = batch_norm_layers(model)
    momenta = [layer.momentum for layer in layers]
    try:
        for count, batch in enumerate(batches, start=1):
            faces = batch[0] if isinstance(batch, tuple) else batch
            for layer in layers:
                layer.momentum = 1.0 - 1.0 / count  # batch 1 replaces the old figures outright
            model(faces, training=True)
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum
    return len(layers)


def keep_better_average(model, average, files, batches, validation):
    """Average ``files`` into the model ``average`` (built like ``model``, float32), refresh its
    BatchNorm figures over ``batches`` and return (the model to keep, a record for the metadata).

    The average is kept when it scores at least as well as ``model`` (the best epoch) on the
    validation faces.
    """
    average_weights(average, list(files.values()))
    refresh_batch_norm(average, batches)
    scores = {"average": accuracy(average, validation.images, validation.labels),
              "best epoch": accuracy(model, validation.images, validation.labels)}
    kept = scores["average"] >= scores["best epoch"]
    record = {"epochs": [min(files), max(files)], "files": len(files), "validation_accuracy": scores["average"],
              "best_epoch_validation_accuracy": scores["best epoch"], "kept": kept}
    log.info("weights averaged over epochs %d-%d: validation accuracy %.4f against %.4f for the best epoch; "
             "keeping %s", min(files), max(files), scores["average"], scores["best epoch"],
             "the average" if kept else "the best epoch")
    return (average if kept else model), record
