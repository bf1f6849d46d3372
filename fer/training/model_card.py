"""A model directory's model card: what the model is for, what it must not be used for, and its
measured limits (per-class recall, faces turned in the picture plane, the faces it learnt from).

The figures are measured when the report is written, on the test split: nothing here is quoted
from elsewhere.
"""

import cv2
import numpy as np

from .evaluation import accuracy

TURNS = (15, 30)
"""Degrees each way that the test faces are turned to measure the model's tolerance."""

HEADING = "## Model card"


def turned(images, degrees):
    """Faces turned by ``degrees`` (counter-clockwise) about their centre, borders reflected."""
    height, width = images.shape[1:3]
    matrix = cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), degrees, 1.0)
    return np.stack([cv2.warpAffine(face, matrix, (width, height), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REFLECT_101).reshape(face.shape) for face in images])


def turn_accuracy(model, split, batch_size=256):
    """``{0: accuracy, 15: ..., 30: ...}``: single-pass accuracy on the faces upright and turned
    each way (the mean of both directions)."""
    def score(images):
        return accuracy(model, images, split.labels, batch_size=batch_size)

    figures = {0: score(split.images)}
    for degrees in TURNS:
        figures[degrees] = (score(turned(split.images, degrees)) + score(turned(split.images, -degrees))) / 2
    return figures


def card_lines(labels, test_metrics, turns, train_labels, test_name):
    """The report's model card section, as lines of Markdown."""
    recall = ", ".join(f"{name} {figures['recall']:.2f}" for name, figures in test_metrics["per_class"].items())
    counts = np.bincount(train_labels, minlength=len(labels))
    shares = ", ".join(f"{name} {count:,} ({count / counts.sum():.1%})" for name, count in zip(labels, counts))
    turned_text = "; ".join(f"±{degrees}°: {turns[degrees]:.1%} ({100 * (turns[degrees] - turns[0]):+.1f} points)"
                            for degrees in TURNS)
    return [
        HEADING,
        "",
        "**What it is for.** Estimating which of the facial expressions "
        f"{', '.join(labels)} a face most resembles, frame by frame: live demonstrations, teaching, "
        "prototypes of interfaces that react to expressions, and aggregate analysis of recordings where "
        "the people filmed agreed to it.",
        "",
        "**What it must not be used for.** Judging people: hiring, grading, policing, border control, "
        "insurance, credit, or any decision about a person. An expression is not a feeling: the model "
        "says what a face looks like in one frame, not what anyone feels, intends or is. Not for "
        "diagnosing health or mental states, not for lie detection, and not for watching people who "
        "have not agreed to it.",
        "",
        "**Measured limits** (on the " + test_name + " faces, single pass):",
        "",
        f"- Recall per class: {recall}. The rarer and subtler expressions are found far less often than "
        "happy and surprise.",
        f"- Faces turned in the picture plane: upright {turns[0]:.1%}; {turned_text}. Set faces upright "
        "before scoring where the detector gives eye positions.",
        f"- Learnt from {counts.sum():,} training faces of FER-2013: 48×48 grey crops of pictures found by "
        "web image search, posed and spontaneous, with one label each (some of them wrong). Per class: "
        + shares + ". Faces, lighting and cameras unlike these are scored less reliably; nothing here was "
        "measured by age, sex or skin tone.",
        "",
    ]


def model_card(model, dataset, metrics):
    """The model card's lines and its figures (``{"turned": {degrees: accuracy}}``) for ``metrics.json``."""
    turns = turn_accuracy(model, dataset.test)
    name = "PublicTest (validation)" if dataset.test_is_validation else "test"
    lines = card_lines(dataset.labels, metrics["test"], turns, dataset.train.labels, name)
    return lines, {"turned_accuracy": {str(degrees): accuracy for degrees, accuracy in turns.items()}}
