"""PNG figures of runs and studies.

A run's learning curves, confusion matrices, class counts and sample faces; the folds of a
cross-validation, side-by-side model comparisons and explanations of single faces.
"""

import numpy as np
from matplotlib.figure import Figure


def _subplots(rows=1, columns=1, **options):
    """A figure and its axes, made without pyplot: no backend switch, no window, nothing to close."""
    figure = Figure(figsize=options.pop("figsize", None))
    return figure, figure.subplots(rows, columns, **options)


def _save(figure, path):
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    return path


def plot_history(history, path):
    """Accuracy and loss per epoch, train beside validation."""
    figure, axes = _subplots(1, 2, figsize=(10, 4))
    epochs = history["epoch"] + 1
    marker = "o" if len(epochs) <= 30 else None  # a lone epoch is a point: without a marker, nothing shows
    for axis, metric in zip(axes, ("accuracy", "loss")):
        axis.plot(epochs, history[metric], marker=marker, label="train")
        if f"val_{metric}" in history:
            axis.plot(epochs, history[f"val_{metric}"], marker=marker, label="validation")
        if len(epochs) == 1:
            axis.set_xticks(list(epochs))
        axis.set_xlabel("epoch")
        axis.set_title(metric)
        axis.grid(alpha=0.3)
        axis.legend()
    return _save(figure, path)


def plot_confusion(matrix, labels, path, normalise=False, title=None):
    """The confusion matrix as a heat map: counts, or each true-class row normalised."""
    matrix = np.asarray(matrix, dtype=float)
    if normalise:
        matrix = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    figure, axis = _subplots(figsize=(6.5, 5.5))
    image = axis.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=axis)
    axis.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    axis.set_yticks(range(len(labels)), labels)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    axis.set_title(title or ("confusion matrix (row-normalised)" if normalise else "confusion matrix"))
    threshold = matrix.max() / 2
    for row in range(len(labels)):
        for column in range(len(labels)):
            text = f"{matrix[row, column]:.2f}" if normalise else f"{int(matrix[row, column])}"
            axis.text(column, row, text, ha="center", va="center", fontsize=8,
                      color="white" if matrix[row, column] > threshold else "black")
    return _save(figure, path)


def plot_class_distribution(split_labels, labels, path):
    """Faces per class in each split, as grouped bars."""
    figure, axis = _subplots(figsize=(8, 4))
    width = 0.8 / max(1, len(split_labels))
    positions = np.arange(len(labels))
    for offset, (name, values) in enumerate(split_labels.items()):
        counts = np.bincount(values, minlength=len(labels))
        axis.bar(positions + offset * width, counts, width, label=f"{name} ({len(values)})")
    axis.set_xticks(positions + width * (len(split_labels) - 1) / 2, labels)
    axis.set_ylabel("faces")
    axis.set_title("class distribution")
    axis.legend()
    return _save(figure, path)


def plot_sample_faces(images, targets, labels, path, per_class=8, seed=0):
    """A grid with one row of sample faces per class."""
    rng = np.random.default_rng(seed)
    figure, axes = _subplots(len(labels), per_class, figsize=(per_class * 0.9, len(labels) * 1.0))
    axes = np.atleast_2d(axes)
    for row, name in enumerate(labels):
        indices = np.flatnonzero(targets == row)
        chosen = rng.choice(indices, size=min(per_class, len(indices)), replace=False) if len(indices) else []
        for column in range(per_class):
            axis = axes[row, column]
            axis.axis("off")
            if column < len(chosen):
                axis.imshow(images[chosen[column]].squeeze(), cmap="gray", vmin=0, vmax=255)
        axes[row, 0].set_title(name, loc="left", fontsize=9)
    return _save(figure, path)


def _horizontal_bars(axis, values, labels, title, xlabel="score"):
    axis.barh(range(len(labels)), values, color="tab:blue")
    axis.set_yticks(range(len(labels)), labels)
    axis.invert_yaxis()
    axis.set_xlim(0, 1)
    axis.set_xlabel(xlabel)
    axis.set_title(title)


def plot_bars(values, labels, path, title, xlabel="score"):
    """Horizontal bars, one per label (used for scores and per-class figures)."""
    figure, axis = _subplots(figsize=(5, 0.4 * len(labels) + 1))
    _horizontal_bars(axis, values, labels, title, xlabel)
    return _save(figure, path)


METRIC_NAMES = {"accuracy": "accuracy", "macro_f1": "macro-F1"}
"""How figures name the metrics keys."""


def _grouped_bars(axis, series, categories, errors=None):
    """One group of bars per category, one bar per named series (``errors``: optional bar ranges)."""
    width = 0.8 / max(1, len(series))
    positions = np.arange(len(categories))
    for offset, (name, values) in enumerate(series.items()):
        axis.bar(positions + offset * width, values, width, label=name,
                 yerr=(errors or {}).get(name), capsize=3)
    axis.set_xticks(positions + width * (len(series) - 1) / 2, categories)
    axis.set_ylim(0, 1)
    axis.grid(axis="y", alpha=0.3)


def plot_folds(per_fold, mean, std, path, metrics=("accuracy", "macro_f1")):
    """Held-out accuracy and macro-F1 of each cross-validation fold, then their mean ± std."""
    series = {f"fold {fold['fold']}": [fold[name] for name in metrics] for fold in per_fold}
    series["mean ± std"] = [mean[name] for name in metrics]
    figure, axis = _subplots(figsize=(7, 4))
    _grouped_bars(axis, series, [METRIC_NAMES.get(name, name) for name in metrics],
                  errors={"mean ± std": [std[name] for name in metrics]})
    axis.set_title(f"held-out figures of {len(per_fold)} folds")
    axis.legend(fontsize=8)
    return _save(figure, path)


def plot_comparison(summary, labels, path, title="model comparison"):
    """Accuracy and macro-F1 beside per-class recall, one bar colour per model.

    ``summary`` maps a model name to ``{"accuracy", "macro_f1", "recall": {label: value}}``.
    """
    figure, (overall, per_class) = _subplots(
        1, 2, figsize=(4 + 1.2 * len(labels), 4.5),
        gridspec_kw={"width_ratios": [1, max(2, len(labels) / 2)]})
    _grouped_bars(overall, {name: [figures["accuracy"], figures["macro_f1"]]
                            for name, figures in summary.items()}, ["accuracy", "macro-F1"])
    overall.set_title(title)
    _grouped_bars(per_class, {name: [figures["recall"].get(label, np.nan) for label in labels]
                              for name, figures in summary.items()}, labels)
    per_class.set_title("recall per class")
    per_class.tick_params(axis="x", labelrotation=30)
    per_class.legend(fontsize=8)
    return _save(figure, path)


def plot_explanation(explanations, labels, path):
    """One row per face: the face, its Grad-CAM heat map or layer activations, its scores."""
    columns = 2 + max(len(explanation.maps) for explanation in explanations)
    figure, axes = _subplots(len(explanations), columns, figsize=(2.2 * columns, 2.4 * len(explanations)),
                                squeeze=False)
    for row, explanation in zip(axes, explanations):
        gray_face = explanation.face.squeeze()
        row[0].imshow(gray_face, cmap="gray", vmin=0, vmax=255)
        row[0].set_title(explanation.title, fontsize=8)
        for axis, (name, heat_map) in zip(row[1:-1], explanation.maps.items()):
            if explanation.overlay:
                axis.imshow(gray_face, cmap="gray", vmin=0, vmax=255)
                axis.imshow(heat_map, cmap="jet", alpha=0.45, vmin=0, vmax=1,
                            extent=(-0.5, gray_face.shape[1] - 0.5, gray_face.shape[0] - 0.5, -0.5))
            else:
                axis.imshow(heat_map, cmap="viridis")
            axis.set_title(name, fontsize=8)
        for axis in row[:-1]:
            axis.axis("off")
        _horizontal_bars(row[-1], explanation.scores, labels, "scores")
        for axis in row[1 + len(explanation.maps):-1]:
            axis.set_visible(False)
    return _save(figure, path)


def plot_reliability(summary, path):
    """Reliability diagram: accuracy against confidence per bin, before and after calibration."""
    figure, axis = _subplots(figsize=(5.5, 5))
    axis.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfectly calibrated")
    for key, name in (("before", "before"), ("after", "after")):
        rows = summary[f"reliability_{key}"]
        axis.plot([row["confidence"] for row in rows], [row["accuracy"] for row in rows], marker="o",
                  label=f"{name}: ECE {summary[f'ece_{key}']:.3f}")
    axis.set_xlim(0, 1)
    axis.set_ylim(0, 1)
    axis.set_xlabel("confidence (top score)")
    axis.set_ylabel("accuracy")
    axis.set_title(f"reliability, {summary['faces']} faces")
    axis.grid(alpha=0.3)
    axis.legend(loc="upper left")
    return _save(figure, path)
