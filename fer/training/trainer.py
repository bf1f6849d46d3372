"""Train a registered model on FER-2013, checkpointing every epoch so a run can resume.

A run lives in one output directory (its files: :mod:`fer.training.run_files`). When the epochs
are done, :func:`finish_run` turns the best checkpoint into the model directory artifacts.
"""

import dataclasses
import logging
import pathlib
import sys
import time

import keras
import numpy as np
import pandas as pd
from sklearn.utils.class_weight import compute_class_weight

from ..labels import EMOTIONS
from ..deployment.bundle import bundle_litert
from ..preprocessing import FACE_SIZE
from . import artifacts, calibration
from .augment import AugmentConfig, training_batches
from .averaging import KeepEpochWeights, keep_better_average, kept_epochs
from .callbacks import EpochSeeds, EpochTimer, TimeLimit, ValidationScores
from .data import load_dataset
from .devices import distribution_strategy, replica_count, strategy_scope
from .models import DEFAULT_MODEL, build_model
from .precision import dtype_policy, processor_name, resolve_precision
from .run_files import (BEST_WEIGHTS_FILE, CHECKPOINT_DIR, CONFIG_FILE, HISTORY_FILE,  # noqa: F401 (re-exported)
                        START_FILE, read_history)
from .warm_start import initialise_from, restore_checkpoint  # noqa: F401 (re-exported)

log = logging.getLogger(__name__)

DEFAULT_LEARNING_RATES = {"sgd": 0.01, "adam": 1e-3, "adamw": 1e-3}


@dataclasses.dataclass
class TrainConfig:
    """Every setting of a training run; saved as ``config.json`` in the output directory."""

    data: str
    output: str
    model: str = DEFAULT_MODEL
    model_options: dict = dataclasses.field(default_factory=dict)
    classes: tuple = EMOTIONS
    epochs: int = 60
    batch_size: int = 64
    optimizer: str = "sgd"
    learning_rate: float = None
    momentum: float = 0.9
    weight_decay: float = 5e-4
    schedule: str = "cosine"
    warmup_epochs: int = 2
    plateau_factor: float = 0.75
    plateau_patience: int = 5
    precision: str = "auto"
    label_smoothing: float = 0.1
    class_weights: str = "none"
    patience: int = 0
    average_last: int = 0
    seed: int = 0
    skip_bad_rows: bool = False
    weights: str = None
    init_from: str = None
    devices: tuple = ()
    augment: AugmentConfig = dataclasses.field(default_factory=AugmentConfig)

    def to_dict(self):
        """Plain JSON-ready settings."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, settings):
        """Settings read back from ``config.json``; unknown keys raise ``ValueError``."""
        settings = dict(settings)
        unknown = set(settings) - {field.name for field in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown setting(s) {', '.join(sorted(unknown))}")
        settings["augment"] = AugmentConfig(**settings.get("augment", {}))
        for name in ("classes", "devices"):
            if name in settings:
                settings[name] = tuple(settings[name])
        return cls(**settings)

    @property
    def base_learning_rate(self):
        """The learning rate given, or the optimizer's usual one."""
        return self.learning_rate or DEFAULT_LEARNING_RATES[self.optimizer]


def make_optimizer(config, steps_per_epoch):
    """The optimizer with its learning-rate schedule (cosine with warm-up, or constant)."""
    rate = config.base_learning_rate
    if config.schedule == "cosine":
        warmup_steps = config.warmup_epochs * steps_per_epoch
        rate = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=rate / 10 if warmup_steps else rate,
            decay_steps=max(1, config.epochs * steps_per_epoch - warmup_steps),
            warmup_target=rate if warmup_steps else None, warmup_steps=warmup_steps)
    elif config.schedule not in ("plateau", "constant"):
        raise ValueError(f"unknown schedule {config.schedule!r}; use cosine, plateau or constant")
    if config.optimizer == "sgd":
        return keras.optimizers.SGD(rate, momentum=config.momentum, nesterov=True,
                                    weight_decay=config.weight_decay or None)
    if config.optimizer == "adamw":
        return keras.optimizers.AdamW(rate, weight_decay=config.weight_decay)
    if config.optimizer == "adam":
        return keras.optimizers.Adam(rate)
    raise ValueError(f"unknown optimizer {config.optimizer!r}; use sgd, adam or adamw")


def class_weights(labels, num_classes, mode):
    """Per-class loss weights: ``balanced``, its square root ``sqrt``, or ``none``."""
    if mode == "none":
        return None
    weights = compute_class_weight("balanced", classes=np.arange(num_classes), y=labels)
    if mode == "sqrt":
        weights = np.sqrt(weights)
    elif mode != "balanced":
        raise ValueError(f"unknown class weighting {mode!r}; use none, sqrt or balanced")
    return {index: float(weight) for index, weight in enumerate(weights)}


def _callbacks(config, output, resuming, train_size, time_limit=None):
    history = read_history(output) if resuming else pd.DataFrame()
    best_so_far = float(history["val_accuracy"].max()) if "val_accuracy" in history else None
    callbacks = [  # in order: each one sees the logs the ones before it wrote
        EpochTimer(train_size),
        keras.callbacks.BackupAndRestore(output / CHECKPOINT_DIR, delete_checkpoint=False),
        keras.callbacks.ModelCheckpoint(output / BEST_WEIGHTS_FILE, monitor="val_accuracy", mode="max",
                                        save_best_only=True, save_weights_only=True,
                                        initial_value_threshold=best_so_far),
        keras.callbacks.CSVLogger(output / HISTORY_FILE, append=resuming),
    ]
    if config.patience:
        callbacks.append(keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max",
                                                       patience=config.patience))
    if time_limit:
        callbacks.append(TimeLimit(time_limit))
    if config.average_last:
        callbacks.append(KeepEpochWeights(output, config.epochs - config.average_last + 1))
    if config.schedule == "plateau":
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor="val_accuracy", mode="max",
                                                           factor=config.plateau_factor,
                                                           patience=config.plateau_patience))
    return callbacks


def build_compiled_model(config, dataset, steps_per_epoch, initialise=True, precision="float32"):
    """Build and compile the configured model for ``dataset``'s classes, computing in ``precision``.

    ``initialise=False`` skips ``config.init_from``: a resumed run's checkpoint replaces it anyway.
    """
    model = _build(config, dataset, precision, weights=config.weights)
    if config.init_from and initialise:
        initialise_from(model, config.init_from, dataset.labels)
    model.compile(optimizer=make_optimizer(config, steps_per_epoch),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
                  metrics=["accuracy"])
    return model


def step_seconds(config, dataset, precision, steps=3):
    """Median seconds of one training step of the configured model computing in ``precision``.

    For ``--precision auto`` where the processor's flags do not settle it: a few steps on random
    faces each way, the first ones (tracing, compiling) not counted.
    """
    model = build_compiled_model(dataclasses.replace(config, init_from=None), dataset, steps_per_epoch=100,
                                 precision=precision)
    random = np.random.default_rng(config.seed)
    faces = random.uniform(0, 255, (config.batch_size, *dataset.train.images.shape[1:])).astype(np.float32)
    targets = np.eye(len(dataset.labels), dtype=np.float32)[random.integers(0, len(dataset.labels), config.batch_size)]
    times = []
    for _ in range(steps + 2):
        start = time.perf_counter()
        model.train_on_batch(faces, targets)
        times.append(time.perf_counter() - start)
    return float(np.median(times[2:]))


def fit_model(config, model, dataset, callbacks=(), **fit_options):
    """Train ``model`` on augmented training batches, scoring validation after each epoch.

    The validation scores reach the epoch's logs before any of ``callbacks`` reads them. Under
    JAX's data-parallel distribution every batch must split evenly over its devices: the batch
    size must, and the last batch leaves out the few faces over (others each epoch).
    """
    num_classes = len(dataset.labels)
    replicas = replica_count(keras.distribution.distribution())  # JAX's; a MirroredStrategy splits any batch
    if config.batch_size % replicas:
        raise ValueError(f"batch size {config.batch_size} does not split evenly over {replicas} devices; "
                         f"use a multiple of {replicas}")
    left_out = len(dataset.train) % config.batch_size % replicas
    if left_out:
        log.info("each epoch leaves out %d of its shuffled training faces so that the last batch splits "
                 "evenly over %d devices", left_out, replicas)
    train_data = training_batches(dataset.train.images, dataset.train.labels, num_classes, config.batch_size,
                                  config.augment, shuffle=True, seed=config.seed, batch_multiple=replicas)
    scores = ValidationScores(dataset.validation, num_classes, config.batch_size * 4, replicas)
    return model.fit(train_data, epochs=config.epochs, callbacks=[EpochSeeds(train_data), scores, *callbacks],
                     shuffle=False,  # the batches shuffle
                     class_weight=class_weights(dataset.train.labels, num_classes, config.class_weights),
                     **fit_options)


def train(config, resume=False, dataset=None, time_limit=None, restore_from=None):
    """Run (or resume) training, then write the model directory. Returns the output path.

    ``time_limit`` (seconds) stops at the last epoch that fits; the directory then holds the
    best epoch so far and ``--resume`` goes on from the checkpoint. ``restore_from``, a model
    directory this run wrote, stands in for a lost checkpoint: the run goes on from its best epoch.
    """
    output = pathlib.Path(config.output)
    checkpointed = (output / CHECKPOINT_DIR).exists()
    if checkpointed and (restore_from or not resume):
        raise FileExistsError(f"{output} already holds a run; resume it with --resume {output} "
                              "or choose another --output")
    config = dataclasses.replace(config, learning_rate=config.base_learning_rate)  # the report names it
    if dataset is None:
        dataset = load_dataset(config.data, config.classes, config.skip_bad_rows, seed=config.seed)
    log.info("train %d, validation %d, test %d faces; classes %s", len(dataset.train),
             len(dataset.validation), len(dataset.test), ", ".join(dataset.labels))
    steps_per_epoch = int(np.ceil(len(dataset.train) / config.batch_size))
    strategy = distribution_strategy(config.devices)
    if strategy is not None:
        log.info("training data-parallel on %d devices", replica_count(strategy))
    precision = resolve_precision(config.precision, lambda candidate: step_seconds(config, dataset, candidate))
    config = dataclasses.replace(config, precision=precision)  # saved: a resumed run keeps what was chosen
    keras.utils.set_random_seed(config.seed)  # after any timing of steps: the weights start alike either way
    with strategy_scope(strategy):  # JAX's distribution must hold while fitting too
        model = build_compiled_model(config, dataset, steps_per_epoch,
                                     initialise=not (checkpointed or restore_from), precision=precision)
        log.info("%s: %d parameters, training in %s", config.model, model.count_params(), precision)
        if restore_from:
            restore_checkpoint(model, restore_from, output, dataset.labels, config.data, steps_per_epoch)
        output.mkdir(parents=True, exist_ok=True)  # only now: a run that fails on its input leaves nothing behind
        artifacts.write_json(output / CONFIG_FILE, config.to_dict())
        if not checkpointed:
            record_start(output, config.init_from, restore_from)
        fit_model(config, model, dataset,
                  _callbacks(config, output, resume or bool(restore_from), len(dataset.train), time_limit),
                  verbose=1 if sys.stdout.isatty() else 2)
    return finish_run(config, model, dataset, precision)


def float32_twin(config, model, dataset):
    """``model`` rebuilt in float32 with its trained weights: what a model directory holds.

    Mixed precision keeps its variables in float32, so the weights carry over exactly; the
    twin's architecture names no mixed policy, so any machine and backend can load it.
    """
    if model.dtype_policy.name == "float32":
        return model
    twin = _build(config, dataset, "float32")
    twin.set_weights(model.get_weights())
    return twin


def _build(config, dataset, precision, weights=None):
    """The configured architecture for ``dataset``'s faces and classes, computing in ``precision``."""
    options = dict(config.model_options, **({"weights": weights} if weights else {}))
    with dtype_policy(precision):
        return build_model(config.model, dataset.train.images.shape[1:], len(dataset.labels), **options)


def load_best_so_far(directory):
    """A run's best validation epoch so far, as a :class:`~fer.training.artifacts.LoadedModel`.

    For scoring a run that has not written its model yet (``python -m fer evaluate --model RUN``):
    the architecture comes from ``config.json``, the weights from ``best.weights.h5``, in float32
    and not yet calibrated (calibration changes no top emotion).
    """
    directory = pathlib.Path(directory)
    weights = directory / BEST_WEIGHTS_FILE
    if not weights.is_file():
        raise FileNotFoundError(f"{directory}: no {BEST_WEIGHTS_FILE} yet; the run has not finished an epoch")
    config = TrainConfig.from_dict(artifacts.read_json(directory / CONFIG_FILE))
    model = build_model(config.model, (FACE_SIZE, FACE_SIZE, 1), len(config.classes), **config.model_options)
    model.load_weights(weights)
    history = read_history(directory)
    if "val_accuracy" in history:
        best = int(history["val_accuracy"].idxmax())
        log.info("%s: epoch %d, the best of the %d done so far (validation accuracy %.4f)", directory,
                 best + 1, len(history), history["val_accuracy"][best])
    return artifacts.LoadedModel(model, tuple(config.classes), directory)


def starting_point(directory):
    """What a ``--init-from`` model directory's own metadata says of its training."""
    path = pathlib.Path(directory) / artifacts.METADATA_FILE
    before = artifacts.read_json(path) if path.is_file() else {}
    kept = ("epochs_trained", "training_seconds", "best_epoch", "data_sha256", "initialised_from")
    return {"directory": str(directory), **{key: before[key] for key in kept if key in before}}


def record_start(output, init_from, restore_from=None):
    """Write ``start.json``: where a starting run's weights came from, read now, for the model's
    metadata at the end; ``init_from`` may hold another model by then. A run rebuilt from its
    model directory (``restore_from``) keeps the start that directory recorded."""
    if restore_from:
        start = artifacts.read_json(pathlib.Path(restore_from) / artifacts.METADATA_FILE).get("initialised_from")
    else:
        start = starting_point(init_from) if init_from else None
    if start:
        artifacts.write_json(pathlib.Path(output) / START_FILE, start)


def finish_run(config, model, dataset, precision="float32"):
    """Load the best validation checkpoint and write model (float32), metrics, plots and report."""
    from .reporting import write_report  # plots pull in matplotlib: only when a run ends

    output = pathlib.Path(config.output)
    if (output / BEST_WEIGHTS_FILE).is_file():
        model.load_weights(output / BEST_WEIGHTS_FILE)
    model = float32_twin(config, model, dataset)
    history = read_history(output)
    model, averaged = average_last_epochs(config, model, dataset, len(history))
    calibrated = calibrate_run(model, dataset)
    seconds = float(history["epoch_seconds"].sum()) if "epoch_seconds" in history else None
    metadata = {
        "architecture": config.model,  # the name asked for (vgg_wide), not its Keras model's (vgg)
        "training": config.to_dict(),
        "data_sha256": artifacts.file_sha256(config.data),
        "epochs_trained": int(len(history)),
        "best_epoch": int(history["val_accuracy"].idxmax()) + 1 if "val_accuracy" in history else None,
        "training_seconds": seconds,
        "train_images_per_second": (len(dataset.train) * len(history) / seconds) if seconds else None,
        "precision": precision,
        "processor": processor_name(),
        "test_is_validation": dataset.test_is_validation,
    }
    start_file = output / START_FILE
    if start_file.is_file():
        metadata["initialised_from"] = artifacts.read_json(start_file)
    elif config.init_from:  # a run begun before runs recorded their start
        metadata["initialised_from"] = starting_point(config.init_from)
    if averaged:
        metadata["averaged"] = averaged
    if calibrated:
        metadata["calibration"] = calibration.brief(calibrated)
    artifacts.save_model_dir(model, output, dataset.labels, metadata)
    bundle_litert(model, output)
    write_report(output, model, dataset, history, metadata, calibrated)
    return output


def average_last_epochs(config, model, dataset, epochs_done):
    """With ``average_last``: the mean of the kept epochs' weights if it beats ``model`` (the best
    epoch, float32) on the validation faces, and its record; else ``model`` (and the record)."""
    if not config.average_last:
        return model, None
    files = kept_epochs(config.output, epochs_done, config.average_last)
    if len(files) < 2 or not len(dataset.validation):
        log.info("weight averaging: %d of the last %d epochs kept, and %d validation faces; the best epoch "
                 "stays", len(files), config.average_last, len(dataset.validation))
        return model, None
    batches = training_batches(dataset.train.images, dataset.train.labels, len(dataset.labels), config.batch_size,
                               config.augment, shuffle=True, seed=config.seed)
    return keep_better_average(model, _build(config, dataset, "float32"), files,
                               (batches[index] for index in range(len(batches))), dataset.validation)


def calibrate_run(model, dataset):
    """Fold a temperature fitted on the validation faces into ``model``; its figures, or None."""
    if not len(dataset.validation):
        log.info("no validation faces: the model is not calibrated")
        return None
    return calibration.calibrate(model, dataset.validation, None if dataset.test_is_validation else dataset.test)
