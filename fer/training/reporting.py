"""Metrics, plots and a one-page report for a finished run."""

import copy
import logging
import pathlib

import pandas as pd

from . import artifacts

from . import plots
from .model_card import HEADING as MODEL_CARD_HEADING, model_card
from .evaluation import evaluate_split

log = logging.getLogger(__name__)

REPORT_FILE = "report.md"
RELIABILITY_FILE = "reliability.png"
CALIBRATION_HEADING = "## Calibration"


TTA_SUFFIXES = {"none": "", "flip": "_tta", "tencrop": "_tencrop"}
"""Keys of ``metrics.json``: ``test``, ``test_tta`` (flip), ``test_tencrop``, and the same for validation."""


def compute_metrics(model, dataset):
    """Validation and test metrics, single pass and with each test-time averaging."""
    metrics = scored_views(model, dataset.validation, dataset.labels, "validation", dataset.test_is_validation)
    if not dataset.test_is_validation:
        metrics.update(scored_views(model, dataset.test, dataset.labels, "test"))
    metrics["test_is_validation"] = dataset.test_is_validation
    return metrics


def scored_views(model, split, labels, name, also_test=False, batch_size=256):
    """``{name, name_tta, name_tencrop}``: ``split`` scored in one pass and with each averaging.

    ``also_test``: the split is the test split too (no PrivateTest rows), under the ``test`` keys.
    """
    metrics = {}
    for tta, suffix in TTA_SUFFIXES.items():
        metrics[name + suffix] = evaluate_split(model, split, labels, tta=tta, batch_size=batch_size)
        if also_test:  # the same faces: scored once
            metrics["test" + suffix] = copy.deepcopy(metrics[name + suffix])
    return metrics


def write_plots(directory, dataset, history, metrics):
    """Every PNG figure of the run; returns their file names keyed by what they show."""
    directory = pathlib.Path(directory)
    figures = {}
    if not history.empty:
        figures["learning curves"] = plots.plot_history(history, directory / "history.png")
    matrix = metrics["test"]["confusion_matrix"]
    figures["confusion matrix"] = plots.plot_confusion(matrix, dataset.labels, directory / "confusion_matrix.png")
    figures["confusion matrix, row-normalised"] = plots.plot_confusion(
        matrix, dataset.labels, directory / "confusion_matrix_normalised.png", normalise=True)
    split_labels = {"train": dataset.train.labels, "validation": dataset.validation.labels}
    if not dataset.test_is_validation:
        split_labels["test"] = dataset.test.labels
    figures["class distribution"] = plots.plot_class_distribution(
        split_labels, dataset.labels, directory / "class_distribution.png")
    figures["sample faces"] = plots.plot_sample_faces(
        dataset.train.images, dataset.train.labels, dataset.labels, directory / "sample_faces.png")
    return {title: path.name for title, path in figures.items()}


def plural(count, noun):
    """``"1 epoch"``, ``"3 epochs"``."""
    return f"{count} {noun}{'s' * (count != 1)}"


def markdown_table(columns, rows):
    """A Markdown table with a header row of ``columns`` and one line per row of values."""
    lines = ["| " + " | ".join(str(column) for column in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def _metrics_table(metrics):
    names = {"": "", "_tta": " (flip TTA)", "_tencrop": " (ten-crop TTA)"}
    rows = [(split + names[suffix], f"{metrics[split + suffix]['accuracy']:.4f}",
             f"{metrics[split + suffix]['macro_f1']:.4f}")
            for split in ("validation", "test") for suffix in names if split + suffix in metrics]
    return markdown_table(["split", "accuracy", "macro-F1"], rows)


def _per_class_table(split_metrics):
    rows = [(name, f"{figures['precision']:.3f}", f"{figures['recall']:.3f}", f"{figures['f1']:.3f}",
             figures["support"]) for name, figures in split_metrics["per_class"].items()]
    return markdown_table(["class", "precision", "recall", "F1", "support"], rows)


def write_report(directory, model, dataset, history, metadata, calibrated=None):
    """Write ``metrics.json``, the plots and ``report.md`` into a model directory.

    ``calibrated``: the figures of :func:`fer.training.calibration.calibrate`, when it ran.
    """
    directory = pathlib.Path(directory)
    metrics = compute_metrics(model, dataset)
    if calibrated:
        metrics["calibration"] = calibrated
    card, metrics["model_card"] = model_card(model, dataset, metrics)
    artifacts.write_json(directory / artifacts.METRICS_FILE, metrics)
    figures = write_plots(directory, dataset, history, metrics)
    settings = metadata["training"]
    lines = [
        f"# Training report: {settings['model']}",  # the architecture asked for, not its Keras name
        "",
        f"Data `{settings['data']}` (sha256 `{metadata['data_sha256'][:16]}…`); classes "
        f"{', '.join(dataset.labels)}; {model.count_params():,} parameters; "
        f"{plural(metadata['epochs_trained'], 'epoch')}, best validation epoch {metadata['best_epoch']}."
        + _start_note(metadata.get("initialised_from")) + _average_note(metadata.get("averaged")),
        _speed_note(metadata),
        _test_note(dataset),
        "",
        _metrics_table(metrics),
        "",
        "## Per class (test)",
        "",
        _per_class_table(metrics["test"]),
        "",
        *card,
        *(calibration_section(directory, calibrated) if calibrated else []),
        "## Settings",
        "",
        "```",
        *(f"{key}: {value}" for key, value in settings.items()),
        "```",
    ]
    _finish_report(directory, lines, figures, metrics)
    return metrics


def calibration_section(directory, calibrated):
    """The report's lines on calibration; draws the reliability diagram into ``directory``."""
    validation = calibrated["validation"]
    rows = [("validation, cross-fitted", validation)]
    if "test" in calibrated:
        rows.append(("test", calibrated["test"]))
    table = markdown_table(["faces", "ECE before", "ECE after", "NLL before", "NLL after", "mean confidence",
                            "accuracy"],
                           [(f"{name} ({part['faces']})", f"{part['ece_before']:.4f}", f"{part['ece_after']:.4f}",
                             f"{part['nll_before']:.4f}", f"{part['nll_after']:.4f}",
                             f"{part['mean_confidence_before']:.3f} -> {part['mean_confidence_after']:.3f}",
                             f"{part['accuracy']:.4f}") for name, part in rows])
    plot = plots.plot_reliability(rows[-1][1], pathlib.Path(directory) / RELIABILITY_FILE)
    return [CALIBRATION_HEADING, "",
            f"The output layer's logits are divided by a temperature of {calibrated['temperature']:.3f}, fitted "
            f"on the validation faces (expected calibration error over {validation['bins']} confidence bins; "
            "cross-fitted: each half of the faces scored with the temperature fitted on the other half).",
            "", table, "", f"![reliability diagram]({plot.name})", ""]


def update_metrics_table(directory, before, after):
    """Replace the table of ``before``'s figures in a model directory's report with ``after``'s."""
    path = pathlib.Path(directory) / REPORT_FILE
    if not path.is_file():
        return
    text, old_table = path.read_text(), _metrics_table(before)
    if old_table not in text:
        log.warning("%s: its accuracy table is not the one metrics.json gives; left as it is", path)
        return
    path.write_text(text.replace(old_table, _metrics_table(after)))


def update_calibration_section(directory, calibrated):
    """Replace (or add, before the settings) the calibration section of a model directory's report."""
    replace_section(directory, CALIBRATION_HEADING, calibration_section(directory, calibrated))


def update_model_card(directory, model, dataset):
    """Measure and write (or refresh) the model card of a model directory scored on ``dataset``."""
    path = pathlib.Path(directory) / artifacts.METRICS_FILE
    metrics = artifacts.read_json(path)
    lines, metrics["model_card"] = model_card(model, dataset, metrics)
    artifacts.write_json(path, metrics)
    replace_section(directory, MODEL_CARD_HEADING, lines)


def replace_section(directory, heading, lines):
    """Put ``lines`` (a section starting with ``heading``) in place of that section of a model
    directory's report, or before its settings when it has none."""
    path = pathlib.Path(directory) / REPORT_FILE
    if not path.is_file():
        return
    text, section = path.read_text(), "\n".join(lines) + "\n"
    if heading + "\n" in text:
        start = text.index(heading + "\n")
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1:] if end >= 0 else "")
    elif "\n## Settings\n" in text:
        at = text.index("\n## Settings\n") + 1
        text = text[:at] + section + text[at:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def _speed_note(metadata):
    """How the run computed and how fast: precision, processor, images a second."""
    if not metadata.get("train_images_per_second"):
        return ""
    return (f"Trained in {metadata.get('precision', 'float32')} on {metadata.get('processor', 'an unnamed CPU')} at "
            f"{metadata['train_images_per_second']:.0f} images/s.")


def _average_note(averaged):
    """A sentence on the weights averaged over the last epochs (``--average-last``), or nothing."""
    if not averaged:
        return ""
    first, last = averaged["epochs"]
    figures = (f"{averaged['validation_accuracy']:.4f} against {averaged['best_epoch_validation_accuracy']:.4f} "
               "for the best epoch on the validation faces")
    if averaged["kept"]:
        return f" The weights are the average of epochs {first}-{last} ({figures})."
    return f" The average of epochs {first}-{last} was not kept ({figures})."


def _start_note(start):
    """A sentence on the model a run started from (``--init-from``), or nothing."""
    if not start:
        return ""
    epochs = start.get("epochs_trained")
    before = f" after {plural(epochs, 'epoch')}" if epochs else ""
    if start.get("training_seconds"):
        before += f" ({start['training_seconds'] / 3600:.1f} h of training)"
    return f" Started from the weights of `{start['directory']}`{before}."


def _test_note(dataset):
    if dataset.test_is_validation:
        return "The data had no PrivateTest rows, so the test figures are the PublicTest (validation) ones."
    return ("Test figures are on the test split (PrivateTest, a test/ folder or a cross-validation fold's "
            "held-out faces), never seen in training or checkpoint choice.")


def _finish_report(directory, lines, figures, metrics):
    """Append a section per figure, write ``report.md`` and log the test accuracy."""
    for title, file_name in figures.items():
        lines += ["", f"## {title.capitalize()}", "", f"![{title}]({file_name})"]
    (directory / REPORT_FILE).write_text("\n".join(lines) + "\n")
    log.info("test accuracy %.4f (flip TTA %.4f); report in %s", metrics["test"]["accuracy"],
             metrics["test_tta"]["accuracy"], directory / REPORT_FILE)


def _member_row(member):
    metadata = member["metadata"]
    trained = (f"{plural(metadata['epochs_trained'], 'epoch')}, best {metadata['best_epoch']}"
               if metadata.get("epochs_trained") else "unknown")
    test, test_tta = member["metrics"]["test"], member["metrics"]["test_tta"]
    return (f"`{member['name']}`", metadata.get("architecture", "?"), f"{metadata.get('parameters', 0):,}", trained,
            f"{test['accuracy']:.4f}", f"{test_tta['accuracy']:.4f}", f"{test_tta['macro_f1']:.4f}")


def write_ensemble_report(directory, model, dataset, data, members):
    """Write ``metrics.json``, the plots and ``report.md`` for an ensemble model directory.

    ``members`` holds one dict per member: its ``name``, its ``metadata.json`` (``metadata``, may be
    empty), its training ``history`` (may be empty) and its own ``metrics`` on ``dataset``, so the
    report shows what averaging buys.
    """
    directory = pathlib.Path(directory)
    metrics = compute_metrics(model, dataset)
    artifacts.write_json(directory / artifacts.METRICS_FILE, metrics)
    figures = write_plots(directory, dataset, pd.DataFrame(), metrics)
    lines = [
        f"# Ensemble report: {model.name}",
        "",
        f"The mean of the class probabilities of {len(members)} models; data `{data}` (sha256 "
        f"`{artifacts.file_sha256(data)[:16]}…`); classes {', '.join(dataset.labels)}; "
        f"{model.count_params():,} parameters in all.",
        _test_note(dataset),
        "",
        _metrics_table(metrics),
        "",
        "## Members, each scored alone on the same faces",
        "",
        markdown_table(["member", "architecture", "parameters", "trained", "test accuracy", "flip TTA",
                        "macro-F1 (TTA)"], [_member_row(member) for member in members]),
        "",
        "## Per class (test)",
        "",
        _per_class_table(metrics["test"]),
    ]
    for index, member in enumerate(members, start=1):
        settings = member["metadata"].get("training")
        if settings:
            lines += ["", f"## Settings of `{member['name']}`", "", "```",
                      *(f"{key}: {value}" for key, value in settings.items()), "```"]
        if member.get("history") is not None and not member["history"].empty:
            title = f"learning curves of {member['name']}"
            figures[title] = plots.plot_history(member["history"], directory / f"member{index}_history.png").name
    _finish_report(directory, lines, figures, metrics)
    return metrics
