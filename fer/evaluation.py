"""Score a model honestly: accuracy, macro-F1, per-class figures and the confusion matrix."""

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support


def predict_scores(model, images, batch_size=256, tta=False):
    """Class probabilities for raw 0-255 faces; ``tta`` averages in the mirrored face."""
    images = np.asarray(images, np.float32)
    scores = model.predict(images, batch_size=batch_size, verbose=0)
    if tta:
        mirrored = images[:, :, ::-1, :]
        scores = (scores + model.predict(mirrored, batch_size=batch_size, verbose=0)) / 2.0
    return scores


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


def evaluate_split(model, split, label_names, tta=False, batch_size=256):
    """Metrics of ``model`` on a :class:`fer.data.Split`."""
    scores = predict_scores(model, split.images, batch_size=batch_size, tta=tta)
    metrics = classification_metrics(split.labels, scores.argmax(axis=1), label_names)
    metrics["tta"] = bool(tta)
    return metrics


def format_metrics(metrics):
    """A short human-readable summary, accuracy first."""
    lines = [f"accuracy {metrics['accuracy']:.4f}  macro-F1 {metrics['macro_f1']:.4f}  "
             f"({metrics['samples']} faces{', flip TTA' if metrics.get('tta') else ''})",
             f"{'class':<10}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}"]
    for name, figures in metrics["per_class"].items():
        lines.append(f"{name:<10}{figures['precision']:>10.3f}{figures['recall']:>8.3f}"
                     f"{figures['f1']:>8.3f}{figures['support']:>9d}")
    return "\n".join(lines)
