"""Hyperparameter search with KerasTuner, scored on the validation split only.

The search space is the learning rate (log-uniform around the optimizer's usual rate), a width
multiplier of the builder's ``widths``, its ``dropout`` and the augmentation strength (every
transform of the base :class:`fer.training.augment.AugmentConfig` scaled together). Each trial trains
for a few epochs and scores its best validation epoch; the test split never reaches the tuner.
The output directory holds the tuner's own files (``tuner/``, so running the same command again
continues the search), the trial table (``trials.csv`` and ``tuning.md``) and ``best.json``:
the best settings with the full epoch count, a config file for ``python train.py --config``.
"""

import dataclasses
import logging
import pathlib
import sys

import keras
import keras_tuner
import numpy as np
import pandas as pd

from ..training import artifacts
from ..training.data import Dataset, load_dataset
from ..training.models import builder_options
from ..training.devices import distribution_strategy, replica_count, strategy_scope
from ..training.trainer import build_compiled_model, fit_model

log = logging.getLogger(__name__)

TUNER_DIR = "tuner"
TRIALS_FILE = "trials.csv"
REPORT_FILE = "tuning.md"
BEST_CONFIG_FILE = "best.json"
OBJECTIVE = "val_accuracy"
LEARNING_RATE_SPAN = (0.1, 3.0)
"""Searched learning rates, as multiples of the optimizer's usual one."""
WIDTH_MULTIPLIERS = (0.5, 0.75, 1.0, 1.5, 2.0)
DROPOUT_RANGE = (0.0, 0.6, 0.1)
AUGMENT_STRENGTH_RANGE = (0.0, 2.0, 0.25)
"""Lowest, highest and step of the searched values."""


def trial_config(base, hp, epochs):
    """``base`` with the hyperparameters ``hp`` picks (or holds) and ``epochs`` epochs."""
    options = dict(base.model_options)
    defaults = builder_options(base.model)
    if "widths" in defaults:
        widths = options.get("widths") or defaults["widths"]
        multiplier = hp.Choice("width_multiplier", WIDTH_MULTIPLIERS)
        options["widths"] = [max(1, round(width * multiplier)) for width in widths]
    if "dropout" in defaults:
        low, high, step = DROPOUT_RANGE
        options["dropout"] = round(hp.Float("dropout", low, high, step=step), 4)
    low, high = (base.base_learning_rate * factor for factor in LEARNING_RATE_SPAN)
    learning_rate = hp.Float("learning_rate", low, high, sampling="log")
    low, high, step = AUGMENT_STRENGTH_RANGE
    strength = round(hp.Float("augment_strength", low, high, step=step), 4)
    return dataclasses.replace(base, learning_rate=learning_rate, model_options=options,
                               augment=base.augment.scaled(strength), epochs=epochs)


class TrialModel(keras_tuner.HyperModel):
    """Builds and trains one trial's model on the train split, validating on the validation split.

    Both happen inside ``strategy``'s scope (see :func:`fer.training.devices.distribution_strategy`),
    not the tuner's: it keeps a JAX distribution only while building, and each trial's
    ``clear_session`` forgets one set around the whole search.
    """

    def __init__(self, base, epochs, dataset, strategy=None):
        super().__init__(name="fer")
        self.base, self.epochs, self.dataset, self.strategy = base, epochs, dataset, strategy

    def build(self, hp):
        """The compiled model of the trial ``hp`` describes."""
        config = trial_config(self.base, hp, self.epochs)
        keras.utils.set_random_seed(config.seed)  # every trial starts from the same seed
        steps_per_epoch = int(np.ceil(len(self.dataset.train) / config.batch_size))
        with strategy_scope(self.strategy):
            return build_compiled_model(config, self.dataset, steps_per_epoch)

    def fit(self, hp, model, *args, callbacks=(), **kwargs):
        """Train ``model`` with the trial's augmentation; validation is scored as the trainer does."""
        with strategy_scope(self.strategy):
            return fit_model(trial_config(self.base, hp, self.epochs), model, self.dataset, callbacks, **kwargs)


def without_test(dataset):
    """``dataset`` with its test split replaced by the validation one, so test faces cannot leak."""
    return Dataset(dataset.train, dataset.validation, dataset.validation, dataset.labels,
                   test_is_validation=True)


def build_tuner(config, dataset, trials, tune_epochs):
    """A seeded random search over :func:`trial_config`, keeping its files in ``output/tuner``."""
    strategy = distribution_strategy(config.devices)
    if strategy is not None:
        log.info("trials train data-parallel on %d devices", replica_count(strategy))
    return keras_tuner.RandomSearch(
        TrialModel(config, tune_epochs, dataset, strategy), objective=keras_tuner.Objective(OBJECTIVE, "max"),
        max_trials=trials, seed=config.seed + 1,  # KerasTuner takes seed 0 for "no seed"
        directory=str(config.output), project_name=TUNER_DIR)


def tune(config, trials=10, tune_epochs=5):
    """Search ``trials`` settings of ``tune_epochs`` epochs each; write the table and ``best.json``."""
    if trials < 1 or tune_epochs < 1:
        raise ValueError(f"--trials and --tune-epochs must be at least 1, got {trials} and {tune_epochs}")
    output = pathlib.Path(config.output)
    output.mkdir(parents=True, exist_ok=True)
    dataset = without_test(load_dataset(config.data, config.classes, config.skip_bad_rows, seed=config.seed))
    log.info("tuning on train %d faces, scoring on validation %d faces; %d trials of %d epochs",
             len(dataset.train), len(dataset.validation), trials, tune_epochs)
    tuner = build_tuner(config, dataset, trials, tune_epochs)
    tuner.search(verbose=1 if sys.stdout.isatty() else 2)
    table = trial_table(tuner.oracle.trials.values())
    best_trials = tuner.oracle.get_best_trials(1)
    if not best_trials:
        raise ValueError(f"no trial of the search in {output / TUNER_DIR} finished")
    best = trial_config(config, best_trials[0].hyperparameters, config.epochs).to_dict()
    best.pop("output")
    write_results(output, table, best)
    return output


def trial_table(trials):
    """One row per trial, best validation score first: its hyperparameters, score and best epoch."""
    rows = []
    for trial in trials:
        rows.append({"trial": trial.trial_id, "status": trial.status, OBJECTIVE: trial.score,
                     "best_epoch": None if trial.best_step is None else int(trial.best_step) + 1,
                     **trial.hyperparameters.values})
    table = pd.DataFrame(rows)
    return table.sort_values(OBJECTIVE, ascending=False, na_position="last").reset_index(drop=True)


def write_results(output, table, best):
    """Write ``trials.csv``, ``best.json`` and ``tuning.md``."""
    from ..training.reporting import markdown_table

    table.to_csv(output / TRIALS_FILE, index=False)
    artifacts.write_json(output / BEST_CONFIG_FILE, best)
    rows = [[_format(value) for value in row] for row in table.itertuples(index=False)]
    lines = [
        f"# Hyperparameter search: {best['model']}",
        "",
        f"{len(table)} trials on `{best['data']}`, each scored by its best {OBJECTIVE} (the validation "
        "split; the test split is never used). Best first:",
        "",
        markdown_table(list(table.columns), rows),
        "",
        f"Train the best settings in full ({best['epochs']} epochs): "
        f"`python train.py --config {output / BEST_CONFIG_FILE} --output NEW_DIR`",
    ]
    (output / REPORT_FILE).write_text("\n".join(lines) + "\n")
    log.info("best %s %.4f; settings in %s", OBJECTIVE, table[OBJECTIVE].iloc[0], output / BEST_CONFIG_FILE)


def _format(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)
