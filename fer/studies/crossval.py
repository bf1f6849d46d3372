"""Stratified k-fold cross-validation on the training data: K models and one summary.

Only the training split takes part. Each fold trains on the other K-1 folds, chooses its
checkpoint on a stratified validation slice carved from those same folds, and is scored once,
at the end, on its held-out fold. The held-out folds cover every training face exactly once, so
their confusion matrices add up to one matrix over the whole training split. Running the same
command again continues a cut-off cross-validation: finished folds are kept, a fold cut off
mid-training resumes from its last epoch.
"""

import dataclasses
import json
import logging
import pathlib

import keras
import numpy as np
from sklearn.model_selection import StratifiedKFold

from ..training import artifacts
from ..training.data import Dataset, Split, load_dataset, stratified_holdout, subset
from ..training.trainer import CHECKPOINT_DIR, train

log = logging.getLogger(__name__)

REPORT_FILE = "crossval.md"
SUMMARY_FILE = "crossval.json"
SETTINGS_FILE = "crossval_config.json"
VALIDATION_FRACTION = 0.1
"""Share of each fold's training part held out to choose its checkpoint."""
SUMMARISED = ("accuracy", "macro_f1")


@dataclasses.dataclass
class Fold:
    """Indices into the training split: what one fold fits on, validates on and is scored on."""

    fit: np.ndarray
    validation: np.ndarray
    held_out: np.ndarray


def fold_indices(labels, folds, seed=0, validation_fraction=VALIDATION_FRACTION):
    """The :class:`Fold` of each of ``folds`` stratified folds of ``labels`` (seeded, pure)."""
    if folds < 2:
        raise ValueError(f"cross-validation needs at least 2 folds, got {folds}")
    labels = np.asarray(labels)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    plan = []
    for training_part, held_out in splitter.split(np.zeros(len(labels)), labels):
        # stratified_holdout only indexes a Split's images, so a Split of indices yields
        # the indices of each part, with the same slice-size rule as the trainer's.
        fit, validation = stratified_holdout(Split(training_part, labels[training_part]),
                                             validation_fraction, seed)
        plan.append(Fold(np.sort(fit.images), np.sort(validation.images), held_out))
    return plan


def fold_dataset(split, fold, labels):
    """The :class:`Dataset` one fold trains on: its held-out faces are its test split only."""
    return Dataset(train=subset(split, fold.fit), validation=subset(split, fold.validation),
                   test=subset(split, fold.held_out), labels=tuple(labels))


def cross_validate(config, folds, validation_fraction=VALIDATION_FRACTION):
    """Train one model per fold under ``config.output``/fold_k and write the summary."""
    output = pathlib.Path(config.output)
    _check_unfinished_run(output, config)
    dataset = load_dataset(config.data, config.classes, config.skip_bad_rows, seed=config.seed)
    plan = fold_indices(dataset.train.labels, folds, config.seed, validation_fraction)
    output.mkdir(parents=True, exist_ok=True)
    artifacts.write_json(output / SETTINGS_FILE, config.to_dict())
    fold_dirs = []
    for number, fold in enumerate(plan, start=1):
        log.info("fold %d of %d: fit %d, validation %d, held out %d faces", number, folds,
                 len(fold.fit), len(fold.validation), len(fold.held_out))
        fold_dir = output / f"fold_{number}"
        if (fold_dir / artifacts.METRICS_FILE).is_file():
            log.info("fold %d was finished by an earlier run: keeping it", number)
            fold_dirs.append(fold_dir)
            continue
        fold_config = dataclasses.replace(config, output=str(fold_dir))
        started = (fold_dir / CHECKPOINT_DIR).is_dir()
        fold_dirs.append(train(fold_config, resume=started,
                               dataset=fold_dataset(dataset.train, fold, dataset.labels)))
        keras.backend.clear_session()  # free the finished fold's graph before the next one
    summary = summarise(fold_dirs, dataset.labels)
    summary.update(folds=folds, seed=config.seed, validation_fraction=validation_fraction,
                   data=config.data, training_faces=len(dataset.train))
    write_summary(output, summary, config)
    return output


def _check_unfinished_run(output, config):
    """Let the same command continue a cut-off cross-validation; refuse anything else in ``output``."""
    if (output / SUMMARY_FILE).exists():
        raise FileExistsError(f"{output} already holds a cross-validation; choose another --output")
    if (output / SETTINGS_FILE).exists():
        if artifacts.read_json(output / SETTINGS_FILE) != json.loads(json.dumps(config.to_dict())):
            raise FileExistsError(f"{output} already holds a cross-validation with other settings; "
                                  "choose another --output")
        log.info("continuing the cross-validation in %s", output)


def summarise(fold_dirs, labels):
    """Per-fold held-out figures, their mean and sample standard deviation, the summed matrix."""
    per_fold = []
    matrix = np.zeros((len(labels), len(labels)), np.int64)
    for number, directory in enumerate(fold_dirs, start=1):
        metrics = artifacts.read_json(pathlib.Path(directory) / artifacts.METRICS_FILE)
        metadata = artifacts.read_json(pathlib.Path(directory) / artifacts.METADATA_FILE)
        held_out = metrics["test"]
        per_fold.append({"fold": number, "directory": pathlib.Path(directory).name,
                         "accuracy": held_out["accuracy"], "macro_f1": held_out["macro_f1"],
                         "held_out_faces": held_out["samples"],
                         "validation_accuracy": metrics["validation"]["accuracy"],
                         "best_epoch": metadata["best_epoch"]})
        matrix += np.asarray(held_out["confusion_matrix"], np.int64)
    figures = {name: np.array([fold[name] for fold in per_fold]) for name in SUMMARISED}
    return {"per_fold": per_fold,
            "mean": {name: float(values.mean()) for name, values in figures.items()},
            "std": {name: float(values.std(ddof=1)) for name, values in figures.items()},
            "labels": list(labels), "confusion_matrix": matrix.tolist()}


def write_summary(output, summary, config):
    """Write ``crossval.json``, the fold and confusion plots and ``crossval.md``."""
    from ..training import plots
    from ..training.reporting import markdown_table

    output = pathlib.Path(output)
    artifacts.write_json(output / SUMMARY_FILE, summary)
    plots.plot_folds(summary["per_fold"], summary["mean"], summary["std"], output / "folds.png")
    plots.plot_confusion(summary["confusion_matrix"], summary["labels"], output / "confusion_matrix.png",
                         title="confusion matrix, all held-out folds")
    mean, std = summary["mean"], summary["std"]
    rows = [[fold["fold"], f"{fold['accuracy']:.4f}", f"{fold['macro_f1']:.4f}", fold["held_out_faces"],
             f"{fold['validation_accuracy']:.4f}", fold["best_epoch"]] for fold in summary["per_fold"]]
    lines = [
        f"# Cross-validation: {config.model}, {summary['folds']} stratified folds",
        "",
        f"Data `{summary['data']}`: the {summary['training_faces']} training faces only, split into "
        f"{summary['folds']} folds (seed {summary['seed']}). Each fold chose its checkpoint on a "
        f"stratified {summary['validation_fraction']:.0%} slice of its own training part and was "
        "scored once on its held-out fold.",
        "",
        f"**Accuracy {mean['accuracy']:.4f} ± {std['accuracy']:.4f}, macro-F1 {mean['macro_f1']:.4f} ± "
        f"{std['macro_f1']:.4f}** (mean ± sample standard deviation over the folds).",
        "",
        markdown_table(["fold", "accuracy", "macro-F1", "held-out faces", "validation accuracy",
                        "best epoch"], rows),
        "",
        f"Reproduce: `python train.py --config {output / SETTINGS_FILE} --folds {summary['folds']} "
        "--output NEW_DIR`",
        "",
        "## Folds",
        "",
        "![folds](folds.png)",
        "",
        "## Confusion matrix, summed over the held-out folds",
        "",
        "![confusion matrix](confusion_matrix.png)",
    ]
    (output / REPORT_FILE).write_text("\n".join(lines) + "\n")
    log.info("cross-validation accuracy %.4f ± %.4f, macro-F1 %.4f ± %.4f; report in %s",
             mean["accuracy"], std["accuracy"], mean["macro_f1"], std["macro_f1"], output / REPORT_FILE)
