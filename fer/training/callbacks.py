"""The trainer's callbacks: epoch speed, validation scores, a time limit and per-epoch seeds."""

import logging
import time

import keras
import numpy as np

log = logging.getLogger(__name__)


class EpochTimer(keras.callbacks.Callback):
    """Adds ``epoch_seconds``, ``images_per_second`` and the learning rate to each epoch's logs.

    It also logs the speed and the time the rest of the run will take: on a CPU an epoch lasts
    minutes, and Keras's own progress bar knows only the current epoch.
    """

    def __init__(self, images_per_epoch):
        super().__init__()
        self.images_per_epoch = images_per_epoch

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._start
        logs["epoch_seconds"] = seconds
        logs["images_per_second"] = self.images_per_epoch / seconds
        logs["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        epochs = self.params.get("epochs", epoch + 1)
        left = epochs - epoch - 1
        log.info("epoch %d/%d: %.0f s, %.0f images/s%s", epoch + 1, epochs, seconds, logs["images_per_second"],
                 f"; about {format_duration(left * seconds)} to go" if left > 0 else "")


def format_duration(seconds):
    """``"2 h 05 min"``, ``"7 min"`` or ``"40 s"``."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


class ValidationScores(keras.callbacks.Callback):
    """Scores the validation faces after each epoch into ``val_accuracy`` and ``val_loss``.

    ``predict`` does it instead of fit's own validation, which fails under a data-parallel
    strategy when the last batch does not split evenly across the replicas. JAX's predict fails
    so too: there the faces are padded to a multiple of ``replicas`` and the padding's scores dropped.
    """

    def __init__(self, split, num_classes, batch_size, replicas=1):
        super().__init__()
        padding = [(0, -len(split.images) % replicas)] + [(0, 0)] * (split.images.ndim - 1)
        self.images = np.pad(split.images.astype(np.float32), padding)
        self.labels = split.labels
        self.targets = np.eye(num_classes, dtype=np.float32)[split.labels]
        self.batch_size = batch_size

    def on_epoch_end(self, epoch, logs=None):
        scores = self.model.predict(self.images, batch_size=self.batch_size, verbose=0)[:len(self.labels)]
        logs["val_loss"] = float(keras.ops.convert_to_numpy(self.model.loss(self.targets, scores)))
        logs["val_accuracy"] = float(np.mean(scores.argmax(axis=1) == self.labels))


class TimeLimit(keras.callbacks.Callback):
    """Stops training after the epoch past which one more would overrun ``seconds`` of training.

    For machines lent by the slot (a command may run ten minutes): the run stops at an epoch
    boundary with its checkpoint saved, and ``--resume`` carries it on.
    """

    def __init__(self, seconds):
        super().__init__()
        self.seconds = seconds

    def on_train_begin(self, logs=None):
        self._start = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        if now - self._start + (now - self._epoch_start) > self.seconds and not self.model.stop_training:
            self.model.stop_training = True
            log.info("time limit: stopping after epoch %d (%.0f s of %.0f s used); --resume goes on",
                     epoch + 1, now - self._start, self.seconds)


class EpochSeeds(keras.callbacks.Callback):
    """Tells the training batches which epoch begins, so each epoch's shuffle and augmentation
    depend on the run's seed and that epoch alone: a resumed run repeats no earlier epoch."""

    def __init__(self, batches):
        super().__init__()
        self.batches = batches

    def on_epoch_begin(self, epoch, logs=None):
        self.batches.set_epoch(epoch)
