"""Calibrated confidences: temperature scaling, folded into the model's last layer.

A network trained with label smoothing is under-confident: it says 0.63 on faces it gets right
two times in three. Dividing its logits by a temperature ``T`` fitted on the validation faces
(``T < 1`` sharpens, ``T > 1`` softens) makes the top score mean what it says, and changes no
prediction. The output layer is a softmax ``Dense``, so ``softmax((W x + b) / T)`` is the same
layer with ``W / T`` and ``b / T``: the temperature goes into the weights, and ``model.json``
with ``model.weights.h5`` alone, in plain Keras or any export, give calibrated probabilities.

The expected calibration error (ECE) is the gap between confidence and accuracy, averaged over
15 equal-width confidence bins weighted by their faces. The "after" figure is cross-fitted: the
temperature that scores each half of the faces is fitted on the other half, so no face judges a
temperature it helped choose.
"""

import logging

import keras
import numpy as np
from scipy.optimize import minimize_scalar

log = logging.getLogger(__name__)

BINS = 15
TEMPERATURE_RANGE = (0.05, 20.0)
"""Bounds of the search; a fit that ends on one means the scores carry little information."""
TINY = 1e-12


def with_temperature(probabilities, temperature):
    """``probabilities`` re-scored as if the logits had been divided by ``temperature``."""
    logits = np.log(np.clip(np.asarray(probabilities, np.float64), TINY, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    scores = np.exp(logits)
    return scores / scores.sum(axis=1, keepdims=True)


def negative_log_likelihood(probabilities, labels):
    """Mean cross-entropy of the true classes."""
    picked = np.asarray(probabilities)[np.arange(len(labels)), labels]
    return float(-np.mean(np.log(np.clip(picked, TINY, 1.0))))


def reliability(probabilities, labels, bins=BINS):
    """Per confidence bin: its range, faces, mean confidence and accuracy (empty bins left out)."""
    probabilities = np.asarray(probabilities)
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == np.asarray(labels)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    rows = []
    for index in range(bins):
        chosen = which == index
        if chosen.any():
            rows.append({"low": float(edges[index]), "high": float(edges[index + 1]), "faces": int(chosen.sum()),
                         "confidence": float(confidence[chosen].mean()), "accuracy": float(correct[chosen].mean())})
    return rows


def expected_calibration_error(probabilities, labels, bins=BINS):
    """Face-weighted mean |accuracy - confidence| over equal-width confidence bins."""
    rows = reliability(probabilities, labels, bins)
    total = sum(row["faces"] for row in rows)
    return float(sum(row["faces"] * abs(row["accuracy"] - row["confidence"]) for row in rows) / total)


def fit_temperature(probabilities, labels):
    """The temperature that minimises the negative log-likelihood of ``labels``."""
    low, high = np.log(TEMPERATURE_RANGE)
    result = minimize_scalar(lambda log_t: negative_log_likelihood(with_temperature(probabilities, np.exp(log_t)),
                                                                   labels),
                             bounds=(low, high), method="bounded", options={"xatol": 1e-4})
    return float(np.exp(result.x))


def cross_fitted(probabilities, labels, seed=0):
    """Each half of the faces re-scored with the temperature fitted on the other half."""
    order = np.random.default_rng(seed).permutation(len(labels))
    halves = order[: len(order) // 2], order[len(order) // 2:]
    scores = np.empty_like(np.asarray(probabilities, np.float64))
    for scored, fitted in (halves, halves[::-1]):
        scores[scored] = with_temperature(probabilities[scored], fit_temperature(probabilities[fitted],
                                                                                 labels[fitted]))
    return scores


def summary(before, after, labels):
    """ECE, NLL and reliability bins of the scores before and after calibration."""
    return {"faces": int(len(labels)), "bins": BINS,
            "ece_before": expected_calibration_error(before, labels),
            "ece_after": expected_calibration_error(after, labels),
            "nll_before": negative_log_likelihood(before, labels),
            "nll_after": negative_log_likelihood(after, labels),
            "mean_confidence_before": float(np.max(before, axis=1).mean()),
            "mean_confidence_after": float(np.max(after, axis=1).mean()),
            "accuracy": float(np.mean(np.argmax(before, axis=1) == labels)),
            "reliability_before": reliability(before, labels), "reliability_after": reliability(after, labels)}


def brief(figures):
    """The figures of :func:`calibrate` without the reliability bins, for ``metadata.json``."""
    return {key: ({name: value for name, value in part.items() if not name.startswith("reliability")}
                  if isinstance(part, dict) else part) for key, part in figures.items()}


def output_layer(model):
    """The softmax ``Dense`` layer that ends ``model``; ``ValueError`` for any other ending."""
    layer = model.layers[-1]
    if not isinstance(layer, keras.layers.Dense) or keras.activations.serialize(layer.activation) != "softmax":
        raise ValueError(f"{model.name} does not end in a softmax Dense layer ({type(layer).__name__}): "
                         "its temperature cannot be folded into the weights")
    return layer


def fold_temperature(model, temperature):
    """Divide the output layer's kernel and bias by ``temperature`` (in place)."""
    layer = output_layer(model)
    layer.set_weights([weight / temperature for weight in layer.get_weights()])


def calibrate(model, validation, test=None, previous_temperature=1.0, batch_size=256):
    """Fit a temperature on ``validation``'s faces, fold it into ``model`` and say what it changed.

    Returns the figures for ``metrics.json``: the temperature (times ``previous_temperature``,
    so it stays relative to the trained weights), and ECE/NLL before and after on the
    validation faces (cross-fitted) and, when given, on the separate ``test`` faces.
    """
    output_layer(model)  # fail before any scoring
    scores = model.predict(validation.images.astype(np.float32), batch_size=batch_size, verbose=0)
    temperature = fit_temperature(scores, validation.labels)
    figures = {"temperature": previous_temperature * temperature, "fitted_temperature": temperature,
               "validation": summary(scores, cross_fitted(scores, validation.labels), validation.labels)}
    if test is not None:
        test_scores = model.predict(test.images.astype(np.float32), batch_size=batch_size, verbose=0)
        figures["test"] = summary(test_scores, with_temperature(test_scores, temperature), test.labels)
    fold_temperature(model, temperature)
    if np.isclose(temperature, TEMPERATURE_RANGE, rtol=1e-3).any():
        log.warning("temperature fit ended on its bound %.2f: the scores carry little information", temperature)
    log.info("calibration: temperature %.3f; validation ECE %.4f -> %.4f (cross-fitted)", temperature,
             figures["validation"]["ece_before"], figures["validation"]["ece_after"])
    return figures
