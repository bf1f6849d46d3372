"""Score a model honestly: accuracy, macro-F1, per-class figures and the confusion matrix."""

import keras
import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support


TTA_MODES = ("none", "flip", "tencrop")
"""Test-time averaging: none; the face and its mirror; or ten crops (four corners and the centre,
each also mirrored), as the published FER-2013 recipes score."""

DEFAULT_TENCROP_MARGIN = 4
"""Shift of the corner crops, in pixels, for models without a crop of their own."""


def tta_mode(tta):
    """``tta`` as one of :data:`TTA_MODES`; ``True`` and ``False`` stand for flip and none."""
    mode = {True: "flip", False: "none", None: "none"}.get(tta, tta)
    if mode not in TTA_MODES:
        raise ValueError(f"unknown test-time averaging {tta!r}; use {', '.join(TTA_MODES)}")
    return mode


def crop_margin(model):
    """How far a corner crop lies from the centre one: half of what the model's ``crop`` layer cuts off.

    The builders crop with ``Cropping2D``; models saved before them with ``CenterCrop``.
    """
    for layer in model.layers:
        if isinstance(layer, keras.layers.Cropping2D):
            return layer.cropping[0][0]
        if isinstance(layer, keras.layers.CenterCrop):
            return (int(model.input_shape[1]) - layer.height) // 2
    return DEFAULT_TENCROP_MARGIN


def shifted(images, dy, dx):
    """Faces moved by ``dy, dx`` pixels (edges repeated), so a centre crop sees another window."""
    if not dy and not dx:
        return images
    margin = max(abs(dy), abs(dx))
    padded = np.pad(images, ((0, 0), (margin, margin), (margin, margin), (0, 0)), mode="edge")
    height, width = images.shape[1:3]
    return padded[:, margin - dy:margin - dy + height, margin - dx:margin - dx + width]


def tta_views(images, mode, margin=DEFAULT_TENCROP_MARGIN):
    """The views of ``images`` that ``mode`` averages over, each a batch shaped like ``images``."""
    views = [images]
    if mode == "tencrop":
        # moving the face by +m shows the centre crop the window m pixels up/left of the centre
        views += [shifted(images, dy, dx) for dy in (-margin, margin) for dx in (-margin, margin)]
    if mode in ("flip", "tencrop"):
        views += [view[:, :, ::-1, :] for view in views]
    return views


def predict_scores(model, images, batch_size=256, tta="none"):
    """Class probabilities for raw 0-255 faces, averaged over the views of ``tta`` (see :data:`TTA_MODES`)."""
    images = np.asarray(images, np.float32)
    views = tta_views(images, tta_mode(tta), crop_margin(model))
    return sum(model.predict(view, batch_size=batch_size, verbose=0) for view in views) / len(views)


def accuracy(model, images, labels, batch_size=256):
    """Single-pass share of raw 0-255 ``images`` whose top score is their label."""
    scores = predict_scores(model, images, batch_size=batch_size)
    return float(np.mean(scores.argmax(axis=1) == np.asarray(labels)))


def classification_metrics(true_labels, predicted_labels, label_names):
    """Accuracy first, then macro-F1, per-class precision/recall/F1/support and the confusion matrix."""
    indices = list(range(len(label_names)))
    precision, recall, f1, support = precision_recall_fscore_support(
        true_labels, predicted_labels, labels=indices, zero_division=0)
    return {
        "accuracy": float(accuracy_score(true_labels, predicted_labels)),
        "macro_f1": float(f1_score(true_labels, predicted_labels, labels=indices, average="macro",
                                   zero_division=0)),
        "samples": int(len(true_labels)),
        "per_class": {
            name: {"precision": float(precision[i]), "recall": float(recall[i]),
                   "f1": float(f1[i]), "support": int(support[i])}
            for i, name in enumerate(label_names)
        },
        "labels": list(label_names),
        "confusion_matrix": confusion_matrix(true_labels, predicted_labels, labels=indices).tolist(),
    }


def evaluate_split(model, split, label_names, tta="none", batch_size=256):
    """Metrics of ``model`` on a :class:`fer.training.data.Split`."""
    scores = predict_scores(model, split.images, batch_size=batch_size, tta=tta)
    metrics = classification_metrics(split.labels, scores.argmax(axis=1), label_names)
    metrics["tta"] = tta_mode(tta)
    return metrics


def format_metrics(metrics):
    """A short human-readable summary, accuracy first."""
    lines = [f"accuracy {metrics['accuracy']:.4f}  macro-F1 {metrics['macro_f1']:.4f}  "
             f"({metrics['samples']} faces{_tta_note(metrics.get('tta'))})",
             f"{'class':<10}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}"]
    for name, figures in metrics["per_class"].items():
        lines.append(f"{name:<10}{figures['precision']:>10.3f}{figures['recall']:>8.3f}"
                     f"{figures['f1']:>8.3f}{figures['support']:>9d}")
    return "\n".join(lines)


def _tta_note(tta):
    mode = tta_mode(tta)
    return "" if mode == "none" else f", {mode} TTA"
