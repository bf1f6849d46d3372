"""PNG figures of a run: learning curves, confusion matrices, class counts, sample faces."""

import matplotlib

matplotlib.use("Agg")  # files only: never open a window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _save(figure, path):
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def plot_history(history, path):
    """Accuracy and loss per epoch, train beside validation."""
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    epochs = history["epoch"] + 1
    for axis, metric in zip(axes, ("accuracy", "loss")):
        axis.plot(epochs, history[metric], label="train")
        if f"val_{metric}" in history:
            axis.plot(epochs, history[f"val_{metric}"], label="validation")
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
    figure, axis = plt.subplots(figsize=(6.5, 5.5))
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
    figure, axis = plt.subplots(figsize=(8, 4))
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
    figure, axes = plt.subplots(len(labels), per_class, figsize=(per_class * 0.9, len(labels) * 1.0))
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


def plot_bars(values, labels, path, title, xlabel="score"):
    """Horizontal bars, one per label (used for scores and per-class figures)."""
    figure, axis = plt.subplots(figsize=(5, 0.4 * len(labels) + 1))
    axis.barh(range(len(labels)), values, color="tab:blue")
    axis.set_yticks(range(len(labels)), labels)
    axis.invert_yaxis()
    axis.set_xlim(0, 1)
    axis.set_xlabel(xlabel)
    axis.set_title(title)
    return _save(figure, path)
