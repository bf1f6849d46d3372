"""How closely an exported file follows the Keras model it came from, and how fast it runs.

Checked on the same faces: agreement of the top emotion, the largest difference of any
probability, accuracy when the faces have labels, milliseconds per single face (the live
demo's usual batch), and the file's size against the model's float32 parameters.
"""

import time

import numpy as np

from .formats import FLOAT_FORMATS, size_bytes

MIN_FLOAT_AGREEMENT = 0.999
"""A float export must give the Keras model's top emotion on at least this share of faces."""
MAX_INT8_ACCURACY_DROP = 0.015
MAX_INT8_SIZE_SHARE = 0.40
"""int8: at most 1.5 points below Keras's accuracy, at most 40 % of the float32 parameters' bytes."""
TIMED_CALLS = 200


def scores_of(score, faces, batch_size=256):
    """Probabilities of every face, scored ``batch_size`` at a time."""
    return np.concatenate([score(faces[start:start + batch_size]) for start in range(0, len(faces), batch_size)])


def ms_per_face(score, face):
    """Median milliseconds of one call on a batch of one face, after a warm-up."""
    batch = face[np.newaxis].astype(np.float32)
    for _ in range(10):
        score(batch)
    times = []
    for _ in range(TIMED_CALLS):
        started = time.perf_counter()
        score(batch)
        times.append(time.perf_counter() - started)
    return float(np.median(times) * 1000)


def check(fmt, path, model, score, faces, labels=None):
    """The parity figures of the export ``path`` (format ``fmt``, scored by ``score``) on ``faces``.

    ``labels`` (optional) adds both accuracies. ``passed`` says whether the export meets the
    bars above; ``problems`` says why not.
    """
    faces = np.asarray(faces, np.float32)
    expected = scores_of(lambda batch: np.asarray(model.predict_on_batch(batch), np.float32), faces)
    got = scores_of(score, faces)
    parameter_bytes = 4 * int(model.count_params())
    figures = {"format": fmt, "path": str(path), "faces": int(len(faces)),
               "top_emotion_agreement": float(np.mean(expected.argmax(1) == got.argmax(1))),
               "max_abs_probability_difference": float(np.abs(expected - got).max()),
               "bytes": int(size_bytes(path)), "float32_parameter_bytes": parameter_bytes,
               "ms_per_face": ms_per_face(score, faces[0]),
               "keras_ms_per_face": ms_per_face(lambda batch: model.predict_on_batch(batch), faces[0])}
    figures["size_share"] = figures["bytes"] / parameter_bytes
    if labels is not None:
        figures["keras_accuracy"] = float(np.mean(expected.argmax(1) == labels))
        figures["accuracy"] = float(np.mean(got.argmax(1) == labels))
    figures["problems"] = problems(figures)
    figures["passed"] = not figures["problems"]
    return figures


def problems(figures):
    """What keeps an export's figures from the bars, in words (empty when it meets them)."""
    found = []
    if figures["format"] in FLOAT_FORMATS and figures["top_emotion_agreement"] < MIN_FLOAT_AGREEMENT:
        found.append(f"agrees with Keras on only {figures['top_emotion_agreement']:.2%} of faces "
                     f"(at least {MIN_FLOAT_AGREEMENT:.1%} expected)")
    if figures["format"] == "litert-int8":
        if "accuracy" in figures and figures["keras_accuracy"] - figures["accuracy"] > MAX_INT8_ACCURACY_DROP:
            found.append(f"accuracy {figures['accuracy']:.2%} is more than {MAX_INT8_ACCURACY_DROP:.1%} below "
                         f"Keras's {figures['keras_accuracy']:.2%}")
        if figures["size_share"] > MAX_INT8_SIZE_SHARE:
            found.append(f"{figures['size_share']:.0%} of the float32 size (at most {MAX_INT8_SIZE_SHARE:.0%})")
    return found


def describe(figures):
    """The figures in a few lines of text."""
    lines = [f"{figures['path']} ({figures['format']}): {figures['bytes'] / 1e6:.2f} MB, "
             f"{figures['size_share']:.0%} of the float32 parameters",
             f"  on {figures['faces']} faces: same top emotion as Keras on {figures['top_emotion_agreement']:.2%}, "
             f"largest probability difference {figures['max_abs_probability_difference']:.2g}"]
    if "accuracy" in figures:
        lines.append(f"  accuracy {figures['accuracy']:.2%} (Keras {figures['keras_accuracy']:.2%})")
    lines.append(f"  {figures['ms_per_face']:.2f} ms per single face on this CPU "
                 f"(Keras predict_on_batch {figures['keras_ms_per_face']:.2f} ms)")
    lines.append("  check passed" if figures["passed"] else "  CHECK FAILED: " + "; ".join(figures["problems"]))
    return "\n".join(lines)
