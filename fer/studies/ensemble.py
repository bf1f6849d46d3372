"""Ensembles: one Keras model whose output is the mean of its members' probabilities.

Each member is embedded whole as a sub-model renamed ``member<k>_<name>``, so the ensemble is an
ordinary functional model: saved as ``model.json`` + ``model.weights.h5`` it loads like any
other model directory, with :func:`fer.load_model` or plain Keras.
"""

import logging
import pathlib

import keras

from ..training import artifacts

log = logging.getLogger(__name__)


def check_compatible(members):
    """Raise ``ValueError`` unless every :class:`fer.training.artifacts.LoadedModel` shares labels and input."""
    if len(members) < 2:
        raise ValueError(f"an ensemble needs at least two models, got {len(members)}")
    first = members[0]
    for member in members[1:]:
        if member.labels != first.labels:
            raise ValueError(f"{member.directory} predicts {', '.join(member.labels)} but {first.directory} "
                             f"predicts {', '.join(first.labels)}; ensemble members must share labels")
        if member.model.input_shape[1:] != first.model.input_shape[1:]:
            raise ValueError(f"{member.directory} takes input {member.model.input_shape[1:]} but "
                             f"{first.directory} takes {first.model.input_shape[1:]}; ensemble members "
                             "must share the input size")


def _renamed(model, name):
    """A copy of ``model`` (same weights) called ``name``."""
    config = model.get_config()
    config["name"] = name
    copy = model.__class__.from_config(config)
    copy.set_weights(model.get_weights())
    return copy


def build_ensemble(members, name="ensemble"):
    """A functional model averaging the probabilities of the :class:`LoadedModel` ``members``."""
    check_compatible(members)
    inputs = keras.Input(shape=members[0].model.input_shape[1:], name="pixels")
    outputs = [_renamed(member.model, f"member{index}_{member.model.name}")(inputs)
               for index, member in enumerate(members, start=1)]
    average = keras.layers.Average(name="emotion")(outputs)
    return keras.Model(inputs, average, name=name)


def _member_summary(member, dataset):
    """What the ensemble report says of one member: its name, metadata, history and own metrics."""
    from ..training.reporting import compute_metrics
    from ..training.trainer import read_history

    return {"name": member.directory.name, "metadata": _metadata(member.directory),
            "history": read_history(member.directory),
            "metrics": compute_metrics(member.model, dataset)}


def _metadata(directory):
    """A model directory's ``metadata.json``, or ``{}`` where it has none."""
    path = pathlib.Path(directory) / artifacts.METADATA_FILE
    return artifacts.read_json(path) if path.is_file() else {}


def _provenance(directory):
    """How a member was made (its training settings and checkpoint), kept when its folder is gone."""
    metadata = _metadata(directory)
    keys = ("architecture", "parameters", "training", "data_sha256", "epochs_trained", "best_epoch",
            "training_seconds")
    return {key: metadata[key] for key in keys if key in metadata}


def make_ensemble(member_dirs, output, data=None):
    """Load the member directories, save their ensemble to ``output``; with ``data``, score and report it.

    Scoring writes ``metrics.json``, the confusion matrices and a ``report.md`` that scores each
    member alone on the same faces. Returns the ensemble's metrics or ``None``.
    """
    members = [artifacts.load_model(directory) for directory in member_dirs]
    model = build_ensemble(members)
    labels = members[0].labels
    metadata = {"members": [str(pathlib.Path(directory)) for directory in member_dirs],
                "member_provenance": [_provenance(directory) for directory in member_dirs]}
    artifacts.save_model_dir(model, output, labels, metadata)
    if data is None:
        return None
    from ..training.data import load_dataset
    from ..training.reporting import write_ensemble_report

    dataset = load_dataset(data, labels)
    summaries = [_member_summary(member, dataset) for member in members]
    metrics = write_ensemble_report(output, model, dataset, data, summaries)
    metrics["data"] = str(data)
    artifacts.write_json(pathlib.Path(output) / artifacts.METRICS_FILE, metrics)
    return metrics
