"""Score batches of faces with a trained Keras model as fast as a CPU allows.

For a handful of 48 x 48 faces, the cost of a model call on a CPU is mostly per-call overhead
and small convolutions. :class:`LiteRTScorer` runs the model's LiteRT (TensorFlow Lite) float32
file with the XNNPACK kernels: the one a model directory ships when it matches the weights, or
an export made in memory at start-up. A model directory's int8 file, once it passed its parity
check, runs the same way in integer arithmetic (see :mod:`fer.deployment.bundle`).
:class:`KerasScorer` is the plain Keras call, for backends LiteRT cannot export from.
"""

import logging
import pathlib
import tempfile
import time

import keras
import numpy as np

from ..files import usable_cores

log = logging.getLogger(__name__)

ENGINES = ("litert", "keras")
MAX_THREADS = 4
"""More threads than this only add hand-over costs for a few faces."""


def default_threads():
    """CPU cores this process may use, at most :data:`MAX_THREADS`."""
    return max(1, min(MAX_THREADS, usable_cores()))


class KerasScorer:
    """Scores from Keras's compiled predict step (``predict_on_batch``)."""

    engine = "keras"

    def __init__(self, model):
        self.model = model

    def __call__(self, batch):
        """Probabilities for a float32 ``N x size x size x 1`` batch."""
        return np.asarray(self.model.predict_on_batch(batch), np.float32)


class LiteRTScorer:
    """Scores from a LiteRT file run by its interpreter (XNNPACK on CPUs)."""

    engine = "litert"

    def __init__(self, path, threads=None):
        """Load the ``.tflite`` file at ``path`` into an interpreter."""
        from ai_edge_litert.interpreter import Interpreter

        self._interpreter = Interpreter(model_path=str(path), num_threads=threads or default_threads())
        if any(detail["dtype"] == np.int8 for detail in self._interpreter.get_tensor_details()):
            self.engine = "litert-int8"  # integer arithmetic inside, float32 in and out
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]
        self._batch_size = None

    @classmethod
    def exported(cls, model, threads=None):
        """Export ``model`` (TensorFlow backend) in memory and load it; takes a second or two."""
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="fer-litert-") as folder:
            path = pathlib.Path(folder) / "model.tflite"
            model.export(path, format="litert", verbose=False)
            scorer = cls(path, threads)
        log.info("model exported to LiteRT in %.1f s", time.perf_counter() - started)
        return scorer

    def __call__(self, batch):
        """Probabilities for a float32 ``N x size x size x 1`` batch (not thread-safe: callers take turns)."""
        if len(batch) != self._batch_size:
            self._interpreter.resize_tensor_input(self._input, batch.shape)
            self._interpreter.allocate_tensors()
            self._batch_size = len(batch)
        self._interpreter.set_tensor(self._input, np.ascontiguousarray(batch, np.float32))
        self._interpreter.invoke()
        return np.array(self._interpreter.get_tensor(self._output), np.float32)  # a copy: the buffer is reused


def make_scorer(model, engine="litert", litert_file=None):
    """A scorer for ``model``: ``litert`` where it can (``litert_file``, the model's own export, when
    given; else an export made now, which needs the TensorFlow backend), else ``keras``."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; use {' or '.join(ENGINES)}")
    if engine == "keras":
        return KerasScorer(model)
    if litert_file is not None:
        log.info("scoring with %s", litert_file)
        return LiteRTScorer(litert_file)
    if keras.backend.backend() != "tensorflow":
        log.info("the %s backend cannot export to LiteRT: scoring with Keras", keras.backend.backend())
        return KerasScorer(model)
    return LiteRTScorer.exported(model)
