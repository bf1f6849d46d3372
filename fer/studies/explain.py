"""Why a model read a face as it did: Grad-CAM heat maps and per-layer activation maps.

Grad-CAM (Selvaraju et al., 2017) weights the feature maps of the last convolution layer by the
mean gradient of the predicted class's score with respect to each map, keeps the positive part
and stretches it over the face. The convolution layers are found generically, by type, at the
top level of the model; a model without any there (an ensemble) is explained through those of
its sub-models that give the same scores, and their maps are averaged.
"""

import dataclasses
import logging

import cv2
import keras
import numpy as np

from ..live.alignment import face_crops
from ..preprocessing import faces_to_batch
from ..training.evaluation import predict_scores

log = logging.getLogger(__name__)

CONV_LAYERS = (keras.layers.Conv2D, keras.layers.SeparableConv2D, keras.layers.DepthwiseConv2D)
CROP_FACTOR = 2
"""Images no wider or taller than this many model inputs are taken as face crops, not searched."""


@dataclasses.dataclass
class Explanation:
    """One face: the model input, its scores, and named 2-D maps over it."""

    title: str
    box: tuple
    """``(x, y, w, h)`` of the face in the image, or ``None`` when the image was the face."""
    face: np.ndarray
    scores: np.ndarray
    maps: dict
    overlay: bool
    """True for heat maps laid over the face (Grad-CAM), False for raw activations."""


def conv_layers(model):
    """The convolution layers at the top level of ``model``, input to output."""
    return [layer for layer in model.layers if isinstance(layer, CONV_LAYERS)]


def feature_models(model):
    """``model`` if it has top-level convolutions, else its sub-models that give the same scores."""
    if conv_layers(model):
        return [model]
    members = [layer for layer in model.layers
               if isinstance(layer, keras.Model) and layer.output_shape == model.output_shape]
    found = [feature_model for member in members for feature_model in feature_models(member)]
    if not found:
        raise ValueError(f"model {model.name!r} has no convolution layer at its top level, nor sub-models "
                         "with one that give its scores; Grad-CAM and activation maps cannot be drawn")
    return found


def _stretch(feature_map, shape):
    """A 2-D map resized to ``shape`` (rows, columns)."""
    return cv2.resize(np.asarray(feature_map, np.float32), (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


def _single_grad_cam(model, face, class_index):
    import tensorflow as tf  # GradientTape: the one backend-specific step

    probe = keras.Model(model.input, [conv_layers(model)[-1].output, model.output])
    batch = tf.constant(face[np.newaxis].astype(np.float32))
    with tf.GradientTape() as tape:
        feature_maps, scores = probe(batch, training=False)
        class_score = scores[:, class_index]
    gradients = tape.gradient(class_score, feature_maps)
    weights = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)
    heat_map = tf.nn.relu(tf.reduce_sum(weights * feature_maps, axis=-1))[0].numpy()
    heat_map = _stretch(heat_map, face.shape[:2])
    return heat_map / heat_map.max() if heat_map.max() > 0 else heat_map


def grad_cam(model, face, class_index):
    """A ``face``-sized heat map in 0..1 of where ``model`` saw evidence for ``class_index``."""
    heat_map = np.mean([_single_grad_cam(feature_model, face, class_index)
                        for feature_model in feature_models(model)], axis=0)
    if not heat_map.any():
        log.warning("Grad-CAM found no positive evidence for class %d: the heat map is empty", class_index)
    return heat_map


def layer_activations(model, face):
    """The mean activation over channels of every top-level convolution layer, named by layer."""
    explained = feature_models(model)
    maps = {}
    for feature_model in explained:
        layers = conv_layers(feature_model)
        probe = keras.Model(feature_model.input, [layer.output for layer in layers])
        outputs = probe(face[np.newaxis].astype(np.float32), training=False)
        prefix = f"{feature_model.name}/" if len(explained) > 1 else ""
        for layer, output in zip(layers, outputs):
            maps[prefix + layer.name] = keras.ops.convert_to_numpy(output)[0].mean(axis=-1)
    return maps


def faces_to_explain(image, input_size, detector, align=True):
    """``(box, crop)`` of each face: the whole image when it is a crop, else the detector's faces
    (set upright where the detector gives the eyes, unless ``align`` is False)."""
    height, width = image.shape[:2]
    if max(height, width) <= CROP_FACTOR * input_size:
        return [(None, image)]
    boxes = detector.detect(image)
    if not boxes:
        log.warning("no face found in the %dx%d image; explaining the whole image as one face", width, height)
        return [((0, 0, width, height), image)]
    return list(zip(boxes, face_crops(image, boxes, align)))


def explain_image(loaded, image, detector, activations=False, align=True):
    """One :class:`Explanation` per face of ``image`` for the :class:`fer.training.artifacts.LoadedModel`."""
    crops = faces_to_explain(image, loaded.input_size, detector, align)
    batch = faces_to_batch([crop for _, crop in crops], loaded.input_size)
    all_scores = predict_scores(loaded.model, batch)
    explanations = []
    for (box, _), face, scores in zip(crops, batch, all_scores):
        predicted = int(np.argmax(scores))
        where = "face crop" if box is None else "face at ({}, {}), {}x{}".format(*box)
        title = f"{where}\n{loaded.labels[predicted]} {scores[predicted]:.0%}"
        if activations:
            maps = layer_activations(loaded.model, face)
        else:
            maps = {f"Grad-CAM: {loaded.labels[predicted]}": grad_cam(loaded.model, face, predicted)}
        explanations.append(Explanation(title, box, face, scores, maps, overlay=not activations))
    return explanations
