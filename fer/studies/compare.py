"""Compare model directories side by side: accuracy, macro-F1 and recall per class.

The figures come from each directory's ``metrics.json`` (written by ``train.py`` and by
``python -m fer ensemble --data``), so comparing costs no prediction.
"""

import logging
import pathlib

from ..labels import EMOTIONS
from ..training import artifacts

log = logging.getLogger(__name__)

SPLITS = ("test", "test_tta", "test_tencrop", "validation", "validation_tta", "validation_tencrop")
"""Figures a training run's ``metrics.json`` holds; ``_tta`` ones average in the mirrored face,
``_tencrop`` ones ten crops (runs before ten-crop scoring lack them)."""


def read_split_metrics(directory, split="test"):
    """The ``split`` figures of a model directory's ``metrics.json``."""
    path = pathlib.Path(directory) / artifacts.METRICS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{directory}: no {artifacts.METRICS_FILE}; is this a model directory "
                                "written by train.py or by python -m fer ensemble --data?")
    metrics = artifacts.read_json(path)
    if not isinstance(metrics.get(split), dict):
        present = [name for name, value in metrics.items() if isinstance(value, dict)]
        raise ValueError(f"{path}: no {split!r} figures; it has {', '.join(present) or 'none'}")
    return metrics[split]


def display_names(directories):
    """A short name per directory: its folder name, or the path as given where two share one."""
    names = [pathlib.Path(directory).name for directory in directories]
    return [name if names.count(name) == 1 else str(directory) for name, directory in zip(names, directories)]


def compare(directories, split="test"):
    """``{name: {"accuracy", "macro_f1", "samples", "recall": {label: value}}}`` in the given order."""
    summary = {}
    for name, directory in zip(display_names(directories), directories):
        metrics = read_split_metrics(directory, split)
        summary[name] = {"accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"],
                         "samples": metrics["samples"],
                         "recall": {label: figures["recall"] for label, figures in metrics["per_class"].items()}}
    samples = {figures["samples"] for figures in summary.values()}
    if len(samples) > 1:
        log.warning("the models were scored on different numbers of faces (%s): their figures may not be "
                    "comparable", ", ".join(str(count) for count in sorted(samples)))
    return summary


def compared_labels(summary):
    """Every label any model has, FER-2013 emotions first in their order."""
    seen = [label for figures in summary.values() for label in figures["recall"]]
    extra = [label for label in dict.fromkeys(seen) if label not in EMOTIONS]
    return [label for label in EMOTIONS if label in seen] + extra


def format_comparison(summary, labels):
    """A plain-text table: one row per model, accuracy first; the class columns are recall."""
    width = max(len("model"), *(len(name) for name in summary))
    header = f"{'model':<{width}} {'accuracy':>8} {'macro-F1':>8} {'faces':>6}"
    header += "".join(f" {label[:8]:>8}" for label in labels)
    lines = [header]
    for name, figures in summary.items():
        row = f"{name:<{width}} {figures['accuracy']:>8.4f} {figures['macro_f1']:>8.4f} {figures['samples']:>6d}"
        for label in labels:
            recall = figures["recall"].get(label)
            row += f" {'-':>8}" if recall is None else f" {recall:>8.3f}"
        lines.append(row)
    return "\n".join(lines)
