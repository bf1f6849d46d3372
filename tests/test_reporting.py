import dataclasses

import numpy as np

from fer import load_model
from fer.training.data import load_csv
from fer.training.evaluation import evaluate_split
from fer.training.reporting import compute_metrics


def test_metrics_score_each_split_with_and_without_flips(tiny_model_dir, sample_csv):
    model = load_model(tiny_model_dir).model
    dataset = load_csv(sample_csv)
    metrics = compute_metrics(model, dataset)
    assert metrics["test_is_validation"] is False
    assert metrics["test"] == evaluate_split(model, dataset.test, dataset.labels)
    assert metrics["validation_tta"] == evaluate_split(model, dataset.validation, dataset.labels, tta=True)
    assert not np.array_equal(dataset.test.images, dataset.validation.images)  # scored apart


def test_without_a_test_split_the_validation_figures_stand_for_it(tiny_model_dir, sample_csv):
    model = load_model(tiny_model_dir).model
    full = load_csv(sample_csv)
    dataset = dataclasses.replace(full, test=full.validation, test_is_validation=True)
    metrics = compute_metrics(model, dataset)
    assert metrics["test_is_validation"] is True
    for suffix, tta in (("", False), ("_tta", True)):
        assert metrics["test" + suffix] == metrics["validation" + suffix]
        assert metrics["test" + suffix] == evaluate_split(model, full.validation, full.labels, tta=tta)
    metrics["test"]["per_class"]["happy"]["recall"] = -1.0  # copies, not one shared dict
    assert metrics["validation"]["per_class"]["happy"]["recall"] != -1.0
