"""Writers of each export format, and runners that score faces with the written files.

Every format takes what the Keras model takes, ``N x 48 x 48 x 1`` float32 grey pixels 0-255
(the rescaling is inside), and gives the class probabilities.
"""

import logging
import pathlib

import numpy as np

from ..live.inference import LiteRTScorer, default_threads

log = logging.getLogger(__name__)

FORMATS = ("litert", "litert-int8", "savedmodel", "onnx")
FLOAT_FORMATS = ("litert", "savedmodel", "onnx")


def needs_tensorflow():
    """Every writer here goes through TensorFlow's graph tools."""
    import keras

    if keras.backend.backend() != "tensorflow":
        raise ValueError(f"exporting needs KERAS_BACKEND=tensorflow, not {keras.backend.backend()}")


def write(model, fmt, path, representative=None):
    """Write ``model`` as ``fmt`` to ``path``; ``representative`` faces set int8's value ranges."""
    needs_tensorflow()
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "litert":
        model.export(path, format="litert", verbose=False)
    elif fmt == "litert-int8":
        write_litert_int8(model, path, representative)
    elif fmt == "savedmodel":
        inference_model(model).export(path, format="tf_saved_model", verbose=False)
    elif fmt == "onnx":
        model = inference_model(model)
        model(np.zeros((1, *model.input_shape[1:]), np.float32))  # the exporter wants a model that has run
        model.export(path, format="onnx", verbose=False)
    else:
        raise ValueError(f"unknown format {fmt!r}; use {', '.join(FORMATS)}")
    return path


def inference_model(model):
    """``model`` with ``training=False`` fixed, sharing its weights, for exporters that call it without it.

    Keras's image preprocessing layers (the ``CenterCrop`` of cropping models saved before the
    builders moved to ``Cropping2D``) default to ``training=True``; called with ``training=None``,
    as the SavedModel and ONNX exporters call a model, such a layer puts every layer after it in
    training mode, and BatchNorm then normalises with each batch's own statistics instead of its
    moving averages.
    """
    import keras

    inputs = keras.Input(shape=model.input_shape[1:], name="pixels")
    return keras.Model(inputs, model(inputs, training=False), name=model.name)


def write_litert_int8(model, path, representative):
    """Full-integer LiteRT: int8 weights and activations, float32 in and out (quantised inside)."""
    import tensorflow as tf

    if representative is None or not len(representative):
        raise ValueError("litert-int8 needs representative faces: pass --data with training rows")

    def faces():
        for face in representative:
            yield [face[np.newaxis].astype(np.float32)]

    model.export(path, format="litert", verbose=False, optimizations=[tf.lite.Optimize.DEFAULT],
                 representative_dataset=faces, target_spec={"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]})


class SavedModelRunner:
    """The SavedModel's serving signature, as TF Serving would call it."""

    def __init__(self, path):
        import tensorflow as tf

        self._signature = tf.saved_model.load(str(path)).signatures["serving_default"]
        self._input = next(iter(self._signature.structured_input_signature[1]))

    def __call__(self, batch):
        outputs = self._signature(**{self._input: np.asarray(batch, np.float32)})
        return np.asarray(next(iter(outputs.values())), np.float32)


class OnnxRunner:
    """ONNX Runtime on the CPU."""

    def __init__(self, path):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = default_threads()
        self._session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name

    def __call__(self, batch):
        return self._session.run(None, {self._input: np.asarray(batch, np.float32)})[0]


def runner(fmt, path):
    """A callable that scores a float32 batch with the file (or folder) ``path`` of format ``fmt``."""
    if fmt in ("litert", "litert-int8"):
        return LiteRTScorer(path)
    if fmt == "savedmodel":
        return SavedModelRunner(path)
    if fmt == "onnx":
        return OnnxRunner(path)
    raise ValueError(f"unknown format {fmt!r}; use {', '.join(FORMATS)}")


def size_bytes(path):
    """Bytes of a file, or of every file under a folder."""
    path = pathlib.Path(path)
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size
