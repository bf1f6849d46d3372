"""``python -m fer export``: a model directory as a LiteRT, SavedModel or ONNX file, checked against Keras."""

import sys

HELP = "export a model directory to LiteRT (float32 or int8), SavedModel or ONNX, and check it against Keras"
DESCRIPTION = ("Write the model in another format and, before returning, score the same faces with the file and "
               "with Keras: agreement of the top emotion, largest probability difference, accuracy (with --data), "
               "milliseconds per face on this CPU and size. The figures are printed and written beside the file "
               "(<output>.parity.json); the command fails when a float export disagrees with Keras on more than "
               "0.1 % of faces or an int8 one loses more than 1.5 points of accuracy.")
EPILOG = ("examples: --format litert (refreshes the model directory's model.tflite)   |   --format litert-int8 "
          "--data fer2013.csv (writes the directory's model-int8.tflite, which the demo runs once it passes)   |   "
          "--format litert-int8 --data fer2013.csv --output fer-int8.tflite   |   --format savedmodel --data "
          "fer2013.csv --output serving/fer/1   |   --format onnx --data fer2013.csv --output fer.onnx")
RANDOM_FACES = 256


def add_arguments(parser):
    """Options of ``export``."""
    from ..deployment.formats import FORMATS

    parser.add_argument("--model", required=True, help="model directory (model.json + model.weights.h5)")
    parser.add_argument("--format", default="litert", choices=FORMATS,
                        help="litert: float32 LiteRT (.tflite) for XNNPACK; litert-int8: full-integer LiteRT, "
                        "float32 in and out, value ranges from --data's training rows; savedmodel: a folder "
                        "with a serving signature for TF Serving; onnx: for ONNX Runtime")
    parser.add_argument("--output", help="file (folder for savedmodel) to write [default for litert and "
                        "litert-int8: the model directory's own model.tflite or model-int8.tflite, which the demo "
                        "then uses (the int8 one only when its check passes)]")
    parser.add_argument("--data", help="FER-2013 CSV or image folder: its validation faces check the export "
                        "(with their accuracy), its training faces calibrate litert-int8 [without it: "
                        f"{RANDOM_FACES} random pictures check agreement only]")
    parser.add_argument("--representative", type=int, default=500,
                        help="training faces that set litert-int8's value ranges")


def run(args):
    """Export, check, print and write the parity figures; exit status 1 when the check fails."""
    import logging
    import pathlib

    from ..deployment import formats, parity
    from ..deployment.bundle import BUNDLED, bundle_litert, record_check
    from ..training.artifacts import load_model, write_json

    formats.needs_tensorflow()
    logging.getLogger("tf2onnx").setLevel(logging.WARNING)  # it logs every optimisation pass
    loaded = load_model(args.model)
    if args.output is None and args.format not in BUNDLED:
        raise ValueError(f"--format {args.format} needs --output")
    faces, labels, representative = check_faces(args, loaded)
    if args.output is None:
        path = bundle_litert(loaded.model, loaded.directory, args.format, representative)
    else:
        path = formats.write(loaded.model, args.format, args.output, representative)
    figures = parity.check(args.format, path, loaded.model, formats.runner(args.format, path), faces, labels)
    figures["faces_from"] = f"{args.data} (validation)" if args.data else f"{RANDOM_FACES} random pictures"
    report = pathlib.Path(f"{path}.parity.json")
    write_json(report, figures)
    if args.output is None:
        record_check(loaded.directory, args.format, figures)
    sys.stdout.write(parity.describe(figures) + f"\n  figures in {report}\n  takes {loaded.input_size} x "
                     f"{loaded.input_size} x 1 grey pixels 0-255, gives the scores of {', '.join(loaded.labels)}\n")
    if not args.data:
        sys.stdout.write("  (checked on random pictures: pass --data to check on faces, with accuracy)\n")
    return 0 if figures["passed"] else 1


def check_faces(args, loaded):
    """(faces to check on, their labels or None, training faces for int8 or None)."""
    import numpy as np

    from ..training.data import load_split

    size = loaded.input_size
    if not args.data:
        if args.format == "litert-int8":
            raise ValueError("--format litert-int8 needs --data: its training faces set the int8 value ranges")
        pictures = np.random.default_rng(0).uniform(0, 255, (RANDOM_FACES, size, size, 1))
        return pictures.astype(np.float32), None, None
    validation = load_split(args.data, "validation", loaded.labels)
    representative = None
    if args.format == "litert-int8":
        train = load_split(args.data, "train", loaded.labels)
        chosen = np.random.default_rng(0).permutation(len(train))[:args.representative]
        representative = train.images[chosen].astype(np.float32)
    return validation.images.astype(np.float32), validation.labels, representative
